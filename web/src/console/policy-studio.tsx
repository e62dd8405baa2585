// The Policy Studio: every ACL policy of one API's chain, each as rows of rules (acl-editor.tsx),
// saved into the draft one policy at a time with its ETag. The first ACL goes first in the chain,
// so refused calls spend no rate-limit quota; another one goes right after the last ACL. Every ACL
// of the chain must allow a call (the first refusal wins), and lists show only what each allows.
// An API without an ACL lets every agent use everything; an ACL without rules lets nothing through.
import { useEffect, useState } from 'preact/hooks';
import { manage } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { Notice } from '../components/bits.tsx';
import { AclEditor } from './acl-editor.tsx';
import { isAcl, rulesFromConfig, type PolicyEntry, type RuleDraft } from './model.ts';

interface SavedAcl {
  index: number;
  etag: string;
  rules: RuleDraft[];
}

export function PolicyStudio({ api }: { api: string }) {
  const base = `/apis/${encodeURIComponent(api)}/policies`;
  const [acls, setAcls] = useState<SavedAcl[] | undefined>();
  /** Where a new, unsaved ACL would go in the chain; undefined when none is being added. */
  const [adding, setAdding] = useState<number | undefined>();
  /** Bumped on every load: a new ACL's editor starts empty again. */
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<Error | undefined>();
  const [status, setStatus] = useState('');

  const load = async () => {
    const { body } = await manage<{ items: Array<{ index: number; policy: PolicyEntry; etag: string }> }>('GET', base);
    setAcls(body.items.flatMap((item) => (isAcl(item.policy) ? [{ index: item.index, etag: item.etag, rules: rulesFromConfig(item.policy.acl) }] : [])));
    setGeneration((g) => g + 1);
  };
  useEffect(() => {
    load().catch((e: Error) => setError(e));
  }, [api]);

  const saved = (message: string) => {
    setAdding(undefined);
    setStatus(message);
    load().catch((e: Error) => setError(e));
  };
  const add = () => {
    if (!acls) return;
    setStatus('');
    setAdding(acls.length === 0 ? 0 : acls[acls.length - 1]!.index + 1);
  };

  if (!acls) return error ? <Failure error={error} /> : <p class="muted">Loading…</p>;
  const count = acls.length + (adding === undefined ? 0 : 1);
  return (
    <section class="panel studio" aria-labelledby="studio-title" data-acls={String(acls.length)}>
      <h2 id="studio-title">Policy Studio: access control (ACL)</h2>
      {count === 0 ? (
        <Notice>This API has no ACL: every agent may list and use every tool, resource and prompt. Add one to decide who may use what; an ACL allows nothing until a rule allows it.</Notice>
      ) : (
        <p class="muted small">
          Rules are read top to bottom; a matching deny rule overrides any allow. Nothing is allowed unless a rule allows it.
          {count > 1 && ' With several ACLs, a call must be allowed by every one of them, and lists show only what all of them allow.'}
        </p>
      )}
      {/* Keyed by place and content: an ACL the draft changed starts afresh, the others keep unsaved edits. */}
      {acls.map((acl, i) => (
        <AclEditor key={`${acl.index}-${acl.etag}`} base={base} ordinal={i + 1} count={count} place={{ index: acl.index, etag: acl.etag }} initial={acl.rules} onSaved={saved} onDiscard={() => undefined} />
      ))}
      {adding !== undefined && <AclEditor key={`new-${generation}`} base={base} ordinal={acls.length + 1} count={count} place={{ insertAt: adding }} initial={[]} onSaved={saved} onDiscard={() => setAdding(undefined)} />}
      <Failure error={error} />
      <div class="form-actions">
        {adding === undefined && (
          <button type="button" class={`button${count === 0 ? ' primary' : ''}`} onClick={add}>
            {count === 0 ? 'Add an ACL' : 'Add another ACL'}
          </button>
        )}
        <span class="muted small" role="status" aria-live="polite" data-studio-status>
          {status}
        </span>
      </div>
    </section>
  );
}
