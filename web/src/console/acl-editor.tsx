// One ACL policy of an API's chain in the Policy Studio: its rules as rows (reordered with the
// buttons or by dragging), saved with a PUT of that policy and its ETag, or, for a new one, a POST
// at its place in the chain. Removing it is a DELETE with the ETag. The studio (policy-studio.tsx)
// lists one of these per ACL the API has.
import { useRef, useState } from 'preact/hooks';
import { manage, draftChanged } from '../manage.ts';
import { Failure } from '../components/failure.tsx';
import { RuleRow } from './acl-rule.tsx';
import { draftProblems, newRule, rulesToConfig, type RuleDraft } from './model.ts';

export interface AclEditorProps {
  /** /api/v1 path of the API's policies. */
  base: string;
  /** 1-based number of this ACL among the API's ACLs, and how many there are. */
  ordinal: number;
  count: number;
  /** Position in the chain: `index` of a saved policy, `insertAt` of a new one. */
  place: { index: number; etag: string } | { insertAt: number };
  initial: RuleDraft[];
  /** After a save or removal: the studio reloads the chain (positions may have moved). */
  onSaved(message: string): void;
  /** A new ACL that was never saved is dropped. */
  onDiscard(): void;
}

export function AclEditor({ base, ordinal, count, place, initial, onSaved, onDiscard }: AclEditorProps) {
  const [rules, setRules] = useState<RuleDraft[]>(initial);
  const [error, setError] = useState<Error | string | undefined>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const dragging = useRef<number | undefined>(undefined);
  const saved = 'index' in place;
  const title = count > 1 || ordinal > 1 ? `ACL ${ordinal}` : 'ACL';
  const headingId = `acl-title-${ordinal}`;

  const edit = (next: RuleDraft[]) => {
    setStatus('');
    setRules(next);
  };
  const move = (from: number, to: number) => {
    if (to < 0 || to >= rules.length || from === to) return;
    const next = [...rules];
    const [rule] = next.splice(from, 1);
    next.splice(to, 0, rule!);
    edit(next);
    setStatus(`Rule moved to position ${to + 1}.`);
  };

  const save = async () => {
    const problems = draftProblems(rules);
    if (problems.length > 0) return setError(`Not saved: ${problems.join('; ')}.`);
    setBusy(true);
    setError(undefined);
    try {
      const policy = { acl: rulesToConfig(rules) };
      if (saved) await manage('PUT', `${base}/${place.index}`, { body: policy, ifMatch: place.etag });
      else await manage('POST', `${base}?at=${place.insertAt}`, { body: policy });
      draftChanged();
      onSaved(`${title}: saved to the draft. Deploy to make it live.`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!saved) return onDiscard();
    const last = count === 1 ? ' It is the only ACL: every agent could then use every tool, resource and prompt of this API.' : '';
    if (!confirm(`Remove ${title}?${last}`)) return;
    try {
      await manage('DELETE', `${base}/${place.index}`, { ifMatch: place.etag });
      draftChanged();
      onSaved(`${title} removed from the draft.`);
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <section class="chain-policy" aria-labelledby={headingId} data-acl-editor={ordinal} data-chain-index={saved ? place.index : 'new'} data-acl={String(rules.length)}>
      <h3 id={headingId}>
        {title}
        <span class="muted small"> {saved ? `(policy ${place.index + 1} of the chain)` : '(new, not saved yet)'}</span>
      </h3>
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
          {saved ? 'Save to draft' : 'Save ACL to draft'}
        </button>
        <button type="button" class="button danger" onClick={remove}>
          {saved ? 'Remove ACL' : 'Discard ACL'}
        </button>
        <span class="muted small" role="status" aria-live="polite" data-studio-status>
          {status}
        </span>
      </div>
    </section>
  );
}
