// A ranked list with inline bars (method usage, top tools/resources/prompts): the bar length
// compares counts at a glance, the numbers stay readable as text.
import { count } from '../format.ts';

export interface Ranked {
  name: string;
  /** The server behind the name (top tools, resources and prompts), when recorded. */
  server?: string | null;
  count: number;
  errors?: number;
  toolErrors?: number;
  denied?: number;
}

export function Ranking({ rows, empty, label, kind }: { rows: Ranked[]; empty: string; label: string; kind: string }) {
  if (rows.length === 0) return <p class="empty">{empty}</p>;
  const max = Math.max(...rows.map((r) => r.count));
  const detailed = rows.some((r) => r.errors !== undefined);
  return (
    <table class="ranking" aria-label={label} data-ranking={kind}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" class="num">
            Calls
          </th>
          {detailed && (
            <>
              <th scope="col" class="num">
                Errors
              </th>
              <th scope="col" class="num" title="Tool results marked isError">
                Tool errors
              </th>
              <th scope="col" class="num">
                Denied
              </th>
            </>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.name}\u0000${r.server ?? ''}`} data-name={r.name} data-server={r.server ?? undefined}>
            <th scope="row" class="ranking-name">
              <span class="bar" style={{ width: `${(100 * r.count) / max}%` }} aria-hidden="true" />
              <span class="ranking-text" title={r.server ? `${r.name} (server ${r.server})` : r.name}>
                {r.name}
                {r.server && <span class="ranking-server"> · {r.server}</span>}
              </span>
            </th>
            <td class="num" data-col="count">
              {count(r.count)}
            </td>
            {detailed && (
              <>
                <td class={`num${r.errors ? ' bad' : ''}`} data-col="errors">
                  {count(r.errors ?? 0)}
                </td>
                <td class={`num${r.toolErrors ? ' bad' : ''}`} data-col="tool-errors">
                  {count(r.toolErrors ?? 0)}
                </td>
                <td class={`num${r.denied ? ' bad' : ''}`} data-col="denied">
                  {count(r.denied ?? 0)}
                </td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
