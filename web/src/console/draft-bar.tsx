// The draft bar on every console screen: what the draft holds that is not live yet, and the
// Deploy button, which makes the draft the next numbered version (sending the ETag read with the
// diff, so what is deployed is what this screen showed: the whole draft for a platform admin, a
// tenant's own pending changes for its admin). After a deploy it says which version went live.
import { useEffect, useState } from 'preact/hooks';
import { manage, draftChanged, onDraftChanged } from '../manage.ts';
import { Failure } from '../components/failure.tsx';

interface DraftState {
  deployedVersion: number | null;
  etag: string | undefined;
  pending: number;
}

export function DraftBar() {
  const [state, setState] = useState<DraftState | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const [deployed, setDeployed] = useState<number | undefined>();
  const [tick, setTick] = useState(0);

  useEffect(() => onDraftChanged(() => setTick((n) => n + 1)), []);
  useEffect(() => {
    let live = true;
    // Not `/draft`: the whole draft is the platform's (404 for a tenant's admin). The diff is
    // narrowed to what the signed-in identity may deploy and carries the ETag a deploy names.
    Promise.all([manage<{ deployedVersion: number | null }>('GET', '/info'), manage<{ patch: unknown[] }>('GET', '/draft/diff')]).then(
      ([info, diff]) => live && setState({ deployedVersion: info.body.deployedVersion, etag: diff.etag, pending: diff.body.patch.length }),
      (e: Error) => live && setError(e),
    );
    return () => void (live = false);
  }, [tick]);

  const deploy = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { body } = await manage<{ version: number }>('POST', '/deployments', { body: { comment: 'deployed from the console' }, ifMatch: state?.etag });
      setDeployed(body.version);
      draftChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const live = deployed ?? state?.deployedVersion ?? undefined;
  return (
    <section class="draft-bar" aria-label="Draft and deployment" data-pending={state?.pending ?? ''} data-deployed-version={live ?? ''}>
      <span>
        {state === undefined ? 'Reading the draft…' : state.pending === 0 ? 'The draft equals the deployed configuration.' : `The draft has ${state.pending} change${state.pending === 1 ? '' : 's'} not deployed yet.`}
      </span>
      <span class="muted" aria-live="polite" data-live-version>
        {deployed !== undefined ? `Deployed version ${deployed}: live now.` : live !== undefined ? `Version ${live} is live.` : 'Nothing deployed yet.'}
      </span>
      <button type="button" class="button primary" onClick={deploy} disabled={busy || state === undefined || state.pending === 0}>
        {busy ? 'Deploying…' : 'Deploy'}
      </button>
      <Failure error={error} />
    </section>
  );
}
