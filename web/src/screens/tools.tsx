// Tool pinning: per server, the tools whose definition waits for approval (changed since it was
// approved, or new and never approved) with the diff of the approved definition against the one
// last seen, and every recorded tool with its hash and the operator's annotations. Approve sends
// the hash shown, so a definition that changed again meanwhile is not approved unseen. A viewer
// reads and approves nothing. Polled every 5 s: a change a list revealed shows up by itself.
import { useState } from 'preact/hooks';
import { mayDecide, postJson, type Meta, type ToolsAnswer, type ToolView } from '../api.ts';
import { useApi } from '../use-api.ts';
import { dateTime } from '../format.ts';
import { Notice, Panel } from '../components/bits.tsx';
import { AnnotationBadges } from '../components/annotation-badges.tsx';
import { DiffView } from '../console/diff-view.tsx';

const STATUS_TEXT: Record<ToolView['status'], string> = { approved: 'approved', changed: 'changed', unapproved: 'new' };

export function Tools({ meta }: { meta: Meta | undefined }) {
  const tools = useApi<ToolsAnswer>('/api/tools', 5000);
  const [outcome, setOutcome] = useState<{ kind: 'info' | 'error'; text: string } | undefined>();
  const decider = mayDecide(meta);
  const items = tools.data?.items ?? [];
  const servers = [...new Set([...items.map((t) => t.server), ...Object.keys(tools.data?.annotations ?? {})])].sort();

  const approve = async (tool: ToolView) => {
    setOutcome(undefined);
    try {
      await postJson(`/api/tools/${encodeURIComponent(tool.server)}/${encodeURIComponent(tool.tool)}/approve`, { hash: tool.hash });
      setOutcome({ kind: 'info', text: `Approved ${tool.server}/${tool.tool}: agents see it again (other nodes within a few seconds).` });
    } catch (error) {
      setOutcome({ kind: 'error', text: (error as Error).message });
    } finally {
      tools.reload();
    }
  };

  return (
    <div class="screen" data-state={tools.loading && !tools.data ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Tool pinning</h1>
        <span class="toolbar-status" aria-live="polite">
          {tools.data ? `${items.filter((t) => t.status !== 'approved').length} waiting for approval` : ''}
        </span>
      </div>
      <p class="muted small">
        Tool definitions recorded by the <code>pinning</code> policy (name, description, schemas, annotations, as a hash). Under <code>enforce</code> a changed tool is hidden from agents until its new definition is approved; under{' '}
        <code>approve-new</code> new tools too. Annotations are the operator's (<code>toolAnnotations</code>); the server's own are hints.
        {meta?.you?.role === 'viewer' && ' Your role (viewer) may look, not approve.'}
      </p>
      {outcome && (
        <div data-pin-status>
          <Notice kind={outcome.kind}>{outcome.text}</Notice>
        </div>
      )}
      {tools.error && <Notice kind="error">{tools.error}</Notice>}
      {tools.data && servers.length === 0 && <p class="empty">No tool recorded yet: add a pinning policy to an API; tools are recorded when an agent lists them.</p>}
      {servers.map((server) => {
        const mine = items.filter((t) => t.server === server);
        const pending = mine.filter((t) => t.status !== 'approved');
        const configured = Object.entries(tools.data?.annotations[server] ?? {});
        return (
          <Panel key={server} title={server} id={`server-${server}`}>
            <div class="pins-server" data-server={server}>
              {pending.length > 0 && <h3>Waiting for approval</h3>}
              {pending.map((tool) => (
                <section key={tool.tool} class="pending-tool" aria-label={`${tool.tool}: ${STATUS_TEXT[tool.status]} definition`} data-pending-tool={tool.tool}>
                  <h3>
                    <code>{tool.tool}</code> <span class={`badge ${tool.status === 'changed' ? 'badge-error' : 'badge-denied'}`}>{STATUS_TEXT[tool.status]}</span> <AnnotationBadges flags={tool.annotations} />
                  </h3>
                  <span class="small muted">
                    {tool.status === 'changed' ? `Changed ${dateTime(Date.parse(tool.changedAt))}; approved ${tool.approvedHash?.slice(0, 12) ?? ''} by ${tool.approvedBy ?? '?'}.` : `First seen ${dateTime(Date.parse(tool.firstSeenAt))}; never approved.`}
                  </span>
                  <DiffView text={tool.diff} label={`Definition of ${tool.tool}: approved against last seen`} />
                  <div class="form-actions">
                    {decider && (
                      <button type="button" class="button primary" onClick={() => void approve(tool)} aria-label={`Approve ${tool.tool} of ${server}`}>
                        Approve
                      </button>
                    )}
                    <span class="hint mono" title={tool.hash}>
                      hash {tool.hash.slice(0, 12)}
                    </span>
                  </div>
                </section>
              ))}
              {mine.length > 0 && <h3>Recorded tools</h3>}
              {mine.length > 0 && (
                <table class="table" aria-label={`Pinned tools of ${server}`}>
                  <thead>
                    <tr>
                      <th scope="col">Tool</th>
                      <th scope="col">Status</th>
                      <th scope="col">Hash</th>
                      <th scope="col">Approved</th>
                      <th scope="col">Annotations</th>
                      <th scope="col">Server's hints</th>
                    </tr>
                  </thead>
                  <tbody>
                    {mine.map((tool) => (
                      <tr key={tool.tool} data-pin={tool.tool} data-status={tool.status}>
                        <td title={tool.description ?? undefined}>
                          <code>{tool.tool}</code>
                        </td>
                        <td>
                          <span class={`badge ${tool.status === 'approved' ? 'badge-ok' : tool.status === 'changed' ? 'badge-error' : 'badge-denied'}`}>{STATUS_TEXT[tool.status]}</span>
                        </td>
                        <td class="mono" title={tool.hash} data-hash={tool.hash}>
                          {tool.hash.slice(0, 12)}
                        </td>
                        <td class="small">{tool.approvedAt ? `${dateTime(Date.parse(tool.approvedAt))} by ${tool.approvedBy ?? '?'}` : '—'}</td>
                        <td>
                          <AnnotationBadges flags={tool.annotations} />
                        </td>
                        <td class="small mono">{tool.serverAnnotations ? JSON.stringify(tool.serverAnnotations) : ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {configured.length > 0 && (
                <h3>
                  Operator annotations <span class="muted small">(toolAnnotations)</span>
                </h3>
              )}
              {configured.length > 0 && (
                <table class="table" aria-label={`Operator annotations of ${server}`}>
                  <thead>
                    <tr>
                      <th scope="col">Tool name or glob</th>
                      <th scope="col">Operator annotations</th>
                    </tr>
                  </thead>
                  <tbody>
                    {configured.map(([name, flags]) => (
                      <tr key={name} data-annotated={name}>
                        <td>
                          <code>{name}</code>
                        </td>
                        <td>
                          <AnnotationBadges flags={flags} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </Panel>
        );
      })}
    </div>
  );
}
