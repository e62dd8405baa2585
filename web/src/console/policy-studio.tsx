// The Policy Studio: the ACL of one API as rows of rules, saved into the API's policy chain in
// the draft (PUT of the ACL policy with its ETag; a new ACL goes first in the chain, so refused
// calls spend no rate-limit quota). An API without an ACL lets every agent use everything; an ACL
// without rules lets nothing through (lists empty, calls refused).
import { useEffect, useRef, useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { Notice } from '../components/bits.tsx';
import { RuleRow } from './acl-rule.tsx';
import { draftProblems, isAcl, newRule, rulesFromConfig, rulesToConfig, type PolicyEntry, type RuleDraft } from './model.ts';

interface Loaded {
  /** Position of the ACL in the chain, or undefined when the API has none yet. */
  index: number | undefined;
  etag: string | undefined;
}

export function PolicyStudio({ api }: { api: string }) {
  const base = `/apis/${encodeURIComponent(api)}/policies`;
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [rules, setRules] = useState<RuleDraft[] | undefined>();
  const [error, setError] = useState<Error | string | undefined>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const dragging = useRef<number | undefined>(undefined);

  const load = async () => {
    const { body } = await manage<{ items: Array<{ index: number; policy: PolicyEntry; etag: string }> }>('GET', base);
    const acl = body.items.find((item) => isAcl(item.policy));
    setLoaded({ index: acl?.index, etag: acl?.etag });
    setRules(acl && isAcl(acl.policy) ? rulesFromConfig(acl.policy.acl) : undefined);
  };
  useEffect(() => {
    load().catch((e: Error) => setError(e));
  }, [api]);

  const edit = (next: RuleDraft[]) => {
    setStatus('');
    setRules(next);
  };
  const move = (from: number, to: number) => {
    if (!rules || to < 0 || to >= rules.length || from === to) return;
    const next = [...rules];
    const [rule] = next.splice(from, 1);
    next.splice(to, 0, rule!);
    edit(next);
    setStatus(`Rule moved to position ${to + 1}.`);
  };

  const save = async () => {
    if (!rules || !loaded) return;
    const problems = draftProblems(rules);
    if (problems.length > 0) return setError(`Not saved: ${problems.join('; ')}.`);
    setBusy(true);
    setError(undefined);
    try {
      const policy = { acl: rulesToConfig(rules) };
      if (loaded.index === undefined) await manage('POST', `${base}?at=0`, { body: policy });
      else await manage('PUT', `${base}/${loaded.index}`, { body: policy, ifMatch: loaded.etag });
      await load();
      setStatus('Saved to the draft. Deploy to make it live.');
      draftChanged();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const removeAcl = async () => {
    if (!loaded || loaded.index === undefined || !confirm('Remove the ACL? Every agent could then use every tool, resource and prompt of this API.')) return;
    try {
      await manage('DELETE', `${base}/${loaded.index}`, { ifMatch: loaded.etag });
      await load();
      setStatus('ACL removed from the draft.');
      draftChanged();
    } catch (e) {
      setError(e as Error);
    }
  };

  if (!loaded) return error ? <Failure error={error} /> : <p class="muted">Loading…</p>;
  return (
    <section class="panel studio" aria-labelledby="studio-title" data-acl={rules === undefined ? 'none' : String(rules.length)}>
      <h2 id="studio-title">Policy Studio: access control (ACL)</h2>
      {rules === undefined ? (
        <>
          <Notice>This API has no ACL: every agent may list and use every tool, resource and prompt. Add one to decide who may use what; an ACL allows nothing until a rule allows it.</Notice>
          <div class="form-actions">
            <button type="button" class="button primary" onClick={() => edit([])}>
              Add an ACL
            </button>
          </div>
        </>
      ) : (
        <>
          <p class="muted small">Rules are read top to bottom; a matching deny rule overrides any allow. Nothing is allowed unless a rule allows it.</p>
          {rules.length === 0 && <p class="empty">No rules: agents connect, but see empty lists and every call is refused.</p>}
          <ol class="rules">
            {rules.map((rule, i) => (
              <RuleRow
                key={rule.key}
                rule={rule}
                index={i}
                count={rules.length}
                onChange={(next) => edit(rules.map((r, j) => (j === i ? next : r)))}
                onMove={(to) => move(i, to)}
                onRemove={() => edit(rules.filter((_, j) => j !== i))}
                onDragFrom={(from) => (dragging.current = from)}
                onDropAt={(to) => {
                  if (dragging.current !== undefined) move(dragging.current, to);
                  dragging.current = undefined;
                }}
              />
            ))}
          </ol>
          <Failure error={error} />
          <div class="form-actions">
            <button type="button" class="button" onClick={() => edit([...rules, newRule()])}>
              Add rule
            </button>
            <button type="button" class="button primary" onClick={save} disabled={busy}>
              {loaded.index === undefined ? 'Save ACL to draft' : 'Save to draft'}
            </button>
            {loaded.index !== undefined && (
              <button type="button" class="button danger" onClick={removeAcl}>
                Remove ACL
              </button>
            )}
            <span class="muted small" role="status" aria-live="polite" data-studio-status>
              {status}
            </span>
          </div>
        </>
      )}
      {rules === undefined && <Failure error={error} />}
    </section>
  );
}
