// Small shared pieces: decision and status badges, the notice box, a labelled select.
import type { ComponentChildren } from 'preact';

export function DecisionBadge({ decision }: { decision: string }) {
  return <span class={`badge badge-${decision}`}>{decision}</span>;
}

/** HTTP status, with the JSON-RPC error code, or "tool error" for a tool result marked isError. */
export function StatusBadge({ status, errorCode, toolError }: { status: number; errorCode?: number | undefined; toolError?: boolean }) {
  const bad = status >= 400 || errorCode !== undefined || toolError === true;
  const title = errorCode !== undefined ? `JSON-RPC error ${errorCode}` : toolError ? 'The tool reported a failure (isError)' : undefined;
  return (
    <span class={`badge ${bad ? 'badge-error' : 'badge-ok'}`} title={title}>
      {status}
      {errorCode !== undefined ? ` · ${errorCode}` : toolError ? ' · tool error' : ''}
    </span>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Select({ label, value, options, onChange, id }: { label: string; value: string; options: Array<[string, string]>; onChange(value: string): void; id: string }) {
  // The label sits beside the control, not around it: its text alone is the control's name.
  return (
    <div class="field">
      <label class="field-label" for={id}>
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Panel({ title, children, wide, id }: { title: string; children: ComponentChildren; wide?: boolean; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-title`;
  return (
    <section class={`panel${wide ? ' panel-wide' : ''}`} aria-labelledby={headingId} data-panel={id}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}
