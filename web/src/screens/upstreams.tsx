// Upstreams: is each MCP server reachable, how fast, what failed last, and how many sessions or
// stdio children it has now. Refreshed every 10 s while the tab is visible.
import type { UpstreamView } from '../api.ts';
import { follow, href } from '../router.ts';
import { useApi } from '../use-api.ts';
import { ago, count, ms } from '../format.ts';
import { Notice } from '../components/bits.tsx';

const STATUS_TEXT: Record<UpstreamView['status'], string> = {
  up: 'Up',
  down: 'Down',
  error: 'Error',
  running: 'Running',
  idle: 'Idle (starts on demand)',
};

export function Upstreams() {
  const { data, error, loading, reload } = useApi<{ servers: UpstreamView[] }>('/api/upstreams', 10_000);
  return (
    <div class="screen" data-state={loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Upstreams</h1>
        <button type="button" class="button" onClick={reload}>
          Check now
        </button>
        <span class="toolbar-status" aria-live="polite">
          {loading ? 'Checking…' : data ? `Checked ${new Date().toLocaleTimeString()}` : ''}
        </span>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {data && (
        <table class="table upstreams" aria-label="Upstream MCP servers">
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Latency
              </th>
              <th scope="col">Transport</th>
              <th scope="col">Target</th>
              <th scope="col">APIs</th>
              <th scope="col" class="num">
                Sessions / children
              </th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {data.servers.map((s) => (
              <tr key={s.name} data-server={s.name}>
                <th scope="row">{s.name}</th>
                <td data-col="status">
                  <span class={`badge badge-up-${s.status}`} title={s.probe?.error}>
                    {STATUS_TEXT[s.status]}
                  </span>
                  {s.probe?.httpStatus !== undefined && (
                    <span class="muted small" title="HTTP status of the health probe (a JSON-RPC ping without a session; 400 or 401 still means the server answers)">
                      {' '}
                      HTTP {s.probe.httpStatus}
                    </span>
                  )}
                  {s.probe?.error && s.status !== 'up' && <div class="small bad">{s.probe.error}</div>}
                </td>
                <td class="num" data-col="latency">
                  {ms(s.probe?.latencyMs)}
                </td>
                <td data-col="transport">{s.transport}</td>
                <td class="mono ellipsis" title={s.target}>
                  {s.target}
                </td>
                <td>{s.apis.join(', ') || '—'}</td>
                <td class="num" data-col="sessions">
                  {count(s.sessions)}
                  {s.maxChildren !== undefined && <span class="muted"> / {count(s.maxChildren)}</span>}
                </td>
                <td data-col="last-error">
                  {s.lastError ? (
                    <a href={href(`/logs/${encodeURIComponent(s.lastError.id)}`, { api: s.lastError.api })} onClick={follow}>
                      {ago(s.lastError.time)}: {s.lastError.message}
                    </a>
                  ) : (
                    <span class="muted">none recorded</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
