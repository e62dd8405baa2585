// Deployments (managed mode): what the draft would change, the deployed versions newest first
// (each comparable with the one before, and rolled back to with one click: the rollback deploys
// that version's document again as a new version), and the history of every change.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { isPlatform, type Meta } from '../api.ts';
import { useManaged } from '../console/use-managed.ts';
import { Failure } from '../components/failure.tsx';
import { Panel } from '../components/bits.tsx';
import { DraftBar } from '../console/draft-bar.tsx';
import { DiffView } from '../console/diff-view.tsx';
import { time } from '../format.ts';

interface Version {
  version: number;
  createdAt: number;
  createdBy: string;
  comment: string | null;
  rolledBackFrom: number | null;
}
interface Diff {
  from: string;
  to: string;
  text: string;
  patch: unknown[];
}
interface Change {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  patch: unknown[];
  version?: number;
}

export function Deployments({ meta }: { meta: Meta | undefined }) {
  const versions = useManaged<{ items: Version[] }>('/deployments');
  const pending = useManaged<Diff>('/draft/diff');
  const changes = useManaged<{ items: Change[] }>('/changes?limit=50');
  const [shown, setShown] = useState<{ version: number; diff: Diff } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [status, setStatus] = useState('');
  // A rollback replaces every tenant's configuration: the platform's to make (404 for a tenant).
  const mayRollBack = isPlatform(meta);

  const compare = async (version: number) => {
    setError(undefined);
    if (shown?.version === version) return setShown(undefined);
    try {
      setShown({ version, diff: (await manage<Diff>('GET', `/deployments/${version}/diff`)).body });
    } catch (e) {
      setError(e as Error);
    }
  };

  const rollback = async (version: number) => {
    if (!confirm(`Deploy version ${version} again as a new version? The draft becomes version ${version}'s configuration.`)) return;
    setError(undefined);
    try {
      const draft = await manage('GET', '/draft');
      const { body } = await manage<Version>('POST', `/deployments/${version}/rollback`, { ifMatch: draft.etag });
      setStatus(`Rolled back: version ${body.version} (the configuration of version ${version}) is live.`);
      draftChanged();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <div class="screen" data-state={versions.loading ? 'loading' : 'ready'}>
      <div class="toolbar">
        <h1>Deployments</h1>
      </div>
      <DraftBar />
      <Failure error={error ?? versions.error} />
      {status && (
        <p class="notice" role="status" data-rollback-status>
          {status}
        </p>
      )}
      {pending.data && pending.data.patch.length > 0 && (
        <Panel title="Not deployed yet" id="pending">
          <DiffView text={pending.data.text} label={`Changes from ${pending.data.from} to the draft`} />
        </Panel>
      )}
      <Panel title="Versions" id="versions">
        {versions.data?.items.length === 0 && <p class="empty">Nothing deployed yet.</p>}
        {versions.data && versions.data.items.length > 0 && (
          <table class="table" aria-label="Deployed versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Deployed</th>
                <th scope="col">By</th>
                <th scope="col">Comment</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.items.map((v, i) => (
                <Fragment key={v.version}>
                  <tr data-version={v.version}>
                    <th scope="row">
                      {v.version}
                      {i === 0 && <span class="badge badge-ok"> live</span>}
                    </th>
                    <td class="nowrap">{time(v.createdAt)}</td>
                    <td>{v.createdBy}</td>
                    <td>{v.rolledBackFrom !== null ? `rollback to version ${v.rolledBackFrom}` : (v.comment ?? '')}</td>
                    <td class="form-actions">
                      <button type="button" class="button" onClick={() => compare(v.version)} aria-expanded={shown?.version === v.version} aria-label={`Changes of version ${v.version}`}>
                        Changes
                      </button>
                      {i > 0 && mayRollBack && (
                        <button type="button" class="button" onClick={() => rollback(v.version)} aria-label={`Roll back to version ${v.version}`}>
                          Roll back to this
                        </button>
                      )}
                    </td>
                  </tr>
                  {shown?.version === v.version && (
                    <tr>
                      <td colSpan={5}>
                        <DiffView text={shown.diff.text || '(no change)'} label={`Changes from ${shown.diff.from} to ${shown.diff.to}`} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <Panel title="History of changes" id="changes">
        {changes.data && (
          <table class="table" aria-label="History of changes">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Object</th>
              </tr>
            </thead>
            <tbody>
              {changes.data.items.map((c) => (
                <tr key={c.seq} data-change={c.action}>
                  <td class="nowrap">{time(c.at)}</td>
                  <td>{c.actor}</td>
                  <td>
                    {c.action}
                    {c.version !== undefined && ` (version ${c.version})`}
                  </td>
                  <td class="mono">{c.target}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </div>
  );
}
