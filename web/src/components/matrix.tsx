// Agents × tools: who called what, and what was refused. Rows are agents, columns tools; a cell
// shows calls and, in red, denials. Shading follows the call count so that hot spots stand out;
// a cell with denials gets a red edge, the view a security reviewer scans for.
import { count } from '../format.ts';

export interface Cell {
  agent: string;
  tool: string;
  /** The server behind the tool (one name may stand for tools of two servers, on two APIs). */
  server: string | null;
  calls: number;
  denied: number;
}

export function Matrix({ cells }: { cells: Cell[] }) {
  if (cells.length === 0) return <p class="empty">No tool calls in this range.</p>;
  const agents = [...new Set(cells.map((c) => c.agent))].sort();
  // A column per tool of a server: `tool \0 server`.
  const column = (c: Cell) => `${c.tool}\u0000${c.server ?? ''}`;
  const totals = new Map<string, number>();
  for (const c of cells) totals.set(column(c), (totals.get(column(c)) ?? 0) + c.calls);
  const tools = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  const at = new Map(cells.map((c) => [`${c.agent}\u0000${column(c)}`, c]));
  const nameOf = (key: string) => key.slice(0, key.indexOf('\u0000'));
  const serverOf = (key: string) => key.slice(key.indexOf('\u0000') + 1);
  const max = Math.max(...cells.map((c) => c.calls));
  return (
    <div class="matrix-scroll" tabIndex={0} role="region" aria-label="Agents × tools matrix, scrollable">
      <table class="matrix" aria-label="Calls and denials of each tool by each agent">
        <thead>
          <tr>
            <th scope="col">Agent \ Tool</th>
            {tools.map((key) => (
              <th key={key} scope="col" class="matrix-tool" title={serverOf(key) ? `${nameOf(key)} (server ${serverOf(key)})` : nameOf(key)} data-server={serverOf(key) || undefined}>
                <span>{nameOf(key)}</span>
                {serverOf(key) && <span class="matrix-server">{serverOf(key)}</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {agents.map((agent) => (
            <tr key={agent} data-agent={agent}>
              <th scope="row" class="matrix-agent" title={agent}>
                {agent}
              </th>
              {tools.map((key) => {
                const tool = nameOf(key);
                const cell = at.get(`${agent}\u0000${key}`);
                if (!cell) return <td key={key} class="matrix-cell matrix-none" data-tool={tool} data-server={serverOf(key) || undefined} aria-label="no calls" />;
                const shade = 0.08 + 0.5 * (cell.calls / max);
                return (
                  <td
                    key={key}
                    class={`matrix-cell${cell.denied > 0 ? ' matrix-denied' : ''}`}
                    data-tool={tool}
                    data-server={cell.server ?? undefined}
                    data-calls={cell.calls}
                    data-denied={cell.denied}
                    style={{ background: `rgba(31, 78, 140, ${shade.toFixed(3)})`, color: shade > 0.4 ? '#fff' : undefined }}
                    title={`${agent} → ${tool}${cell.server ? ` (${cell.server})` : ''}: ${cell.calls} calls, ${cell.denied} denied`}
                  >
                    <span class="matrix-calls">{count(cell.calls)}</span>
                    {cell.denied > 0 && <span class="matrix-denials">{count(cell.denied)} denied</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
