// Agents × tools: who called what, and what was refused. Rows are agents, columns tools; a cell
// shows calls and, in red, denials. Shading follows the call count so that hot spots stand out;
// a cell with denials gets a red edge, the view a security reviewer scans for.
import { count } from '../format.ts';

export interface Cell {
  agent: string;
  tool: string;
  calls: number;
  denied: number;
}

export function Matrix({ cells }: { cells: Cell[] }) {
  if (cells.length === 0) return <p class="empty">No tool calls in this range.</p>;
  const agents = [...new Set(cells.map((c) => c.agent))].sort();
  const totals = new Map<string, number>();
  for (const c of cells) totals.set(c.tool, (totals.get(c.tool) ?? 0) + c.calls);
  const tools = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  const at = new Map(cells.map((c) => [`${c.agent}\u0000${c.tool}`, c]));
  const max = Math.max(...cells.map((c) => c.calls));
  return (
    <div class="matrix-scroll" tabIndex={0} role="region" aria-label="Agents × tools matrix, scrollable">
      <table class="matrix" aria-label="Calls and denials of each tool by each agent">
        <thead>
          <tr>
            <th scope="col">Agent \ Tool</th>
            {tools.map((tool) => (
              <th key={tool} scope="col" class="matrix-tool" title={tool}>
                <span>{tool}</span>
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
              {tools.map((tool) => {
                const cell = at.get(`${agent}\u0000${tool}`);
                if (!cell) return <td key={tool} class="matrix-cell matrix-none" data-tool={tool} aria-label="no calls" />;
                const shade = 0.08 + 0.5 * (cell.calls / max);
                return (
                  <td
                    key={tool}
                    class={`matrix-cell${cell.denied > 0 ? ' matrix-denied' : ''}`}
                    data-tool={tool}
                    data-calls={cell.calls}
                    data-denied={cell.denied}
                    style={{ background: `rgba(31, 78, 140, ${shade.toFixed(3)})`, color: shade > 0.4 ? '#fff' : undefined }}
                    title={`${agent} → ${tool}: ${cell.calls} calls, ${cell.denied} denied`}
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
