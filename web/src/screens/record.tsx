// One audit record in full: what happened (metadata), why (the decision trace), and what was
// said (request and response payloads, when payload logging is on for the API).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { RecordDetail } from '../api.ts';
import { href } from '../router.ts';
import { useApi } from '../use-api.ts';
import { bytes, dateTime, ms } from '../format.ts';
import { DecisionBadge, Notice, StatusBadge } from '../components/bits.tsx';
import { SafetyBadges } from '../components/safety-marks.tsx';

interface TraceStep {
  policy?: string;
  method?: string;
  name?: string;
  allowed?: boolean;
  rule?: string;
  reason?: string;
}

export function RecordPanel({ id, onClose }: { id: string; onClose(): void }) {
  const { data, error, loading } = useApi<RecordDetail>(href(`/api/logs/${encodeURIComponent(id)}`));
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id, data !== undefined]);
  return (
    <aside
      class="record-panel"
      aria-labelledby="record-title"
      data-testid="record-panel"
      data-state={loading ? 'loading' : 'ready'}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <div class="record-head">
        <h2 id="record-title" ref={heading} tabIndex={-1}>
          {data ? (
            <>
              <code>{data.method}</code> {data.target && <span class="record-target">{data.target}</span>}
            </>
          ) : (
            'Record'
          )}
        </h2>
        <button type="button" class="button close" onClick={onClose} aria-label="Close the record (Escape)">
          ✕
        </button>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {data && <RecordBody record={data} />}
    </aside>
  );
}

function RecordBody({ record }: { record: RecordDetail }) {
  const rows: Array<[string, ComponentChildren]> = [
    ['Time', dateTime(record.time)],
    ['Decision', <DecisionBadge decision={record.decision} />],
    ['Session taint', record.safety?.taint ? <SafetyBadges safety={{ ...record.safety, guardrails: [] }} /> : undefined],
    ['Status', <StatusBadge status={record.status} errorCode={record.errorCode} toolError={record.toolError} />],
    ['API', record.api],
    ['Server', record.server],
    // The name on the server, when the agent knew it by another (a federated API's prefix, a virtual server's rename).
    ['Name on the server', record.originalTarget !== record.target ? record.originalTarget : undefined],
    ['Agent', record.agent],
    ['User', record.user],
    ['Tenant', record.tenant],
    ['Client address', record.clientAddress],
    ['Session', record.session],
    ['JSON-RPC id', record.rpcId],
    ['Feature', record.feature],
    ['Rule', record.rule],
    ['Reason', record.reason],
    ['Upstream status', record.upstreamStatus],
    ['Duration', ms(record.durationMs)],
    ['Upstream time', record.upstreamMs === undefined ? undefined : ms(record.upstreamMs)],
    ['Bytes in / out', `${bytes(record.bytesIn)} / ${bytes(record.bytesOut)}`],
    ['Record id', <code>{record.id}</code>],
  ];
  const trace = Array.isArray(record.trace) ? (record.trace as TraceStep[]) : [];
  return (
    <div class="record-body">
      <dl class="facts">
        {rows
          .filter(([, value]) => value !== undefined && value !== null && value !== '')
          .map(([label, value]) => (
            <div key={label} class="fact" data-fact={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
      </dl>
      {record.safety && record.safety.guardrails.length > 0 && (
        <section aria-labelledby="guardrails-title" data-guardrail-findings>
          <h3 id="guardrails-title">Guardrail findings</h3>
          <p class="hint">What the content guardrails found in the answer (kinds and counts; the matched text is never recorded).</p>
          <table class="table trace" aria-label="Guardrail findings">
            <thead>
              <tr>
                <th scope="col">Check</th>
                <th scope="col">Outcome</th>
                <th scope="col">Found</th>
              </tr>
            </thead>
            <tbody>
              {record.safety.guardrails.map((finding, i) => (
                <tr key={i} data-finding={finding.rule}>
                  <td>{finding.rule}</td>
                  <td>
                    <span class={`badge ${finding.allowed ? 'badge-denied' : 'badge-error'}`}>{finding.allowed ? 'delivered' : 'withheld'}</span>
                  </td>
                  <td>{finding.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section aria-labelledby="trace-title">
        <h3 id="trace-title">Decision trace</h3>
        {trace.length === 0 ? (
          <p class="empty">{record.trace === undefined ? 'No policy looked at this exchange.' : <code>{JSON.stringify(record.trace)}</code>}</p>
        ) : (
          <table class="table trace" aria-label="Decision trace">
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Method</th>
                <th scope="col">Name</th>
                <th scope="col">Outcome</th>
                <th scope="col">Rule</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {trace.map((step, i) => (
                <tr key={i} data-trace-step>
                  <td>{step.policy ?? ''}</td>
                  <td>
                    <code>{step.method ?? ''}</code>
                  </td>
                  <td>{step.name ?? ''}</td>
                  <td>
                    <DecisionBadge decision={step.allowed === false ? 'denied' : 'allowed'} />
                  </td>
                  <td>{step.rule ?? ''}</td>
                  <td>{step.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {record.payloads ? (
        <>
          <Payload title="Request" value={record.request} id="request" />
          <Payload title="Response" value={record.response} id="response" />
        </>
      ) : (
        <Notice>Payloads are not recorded for this API: set <code>audit.payloads: true</code> (or the API's <code>audit.payloads</code>) to keep request arguments and results, redacted and size-capped.</Notice>
      )}
    </div>
  );
}

function Payload({ title, value, id }: { title: string; value: unknown; id: string }) {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return (
    <section aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {text === '' ? (
        <p class="empty">Not recorded.</p>
      ) : (
        <pre class="payload" tabIndex={0} data-payload={id} aria-label={`${title} payload`}>
          {text}
        </pre>
      )}
    </section>
  );
}
