// One ACL rule as a row of the Policy Studio: its place (drag handle, up and down buttons for the
// keyboard), name, effect, features and trigger condition.
import type { RuleDraft } from './model.ts';
import { FeatureEditor } from './feature-editor.tsx';
import { CelField } from './cel-field.tsx';

export interface RuleRowProps {
  rule: RuleDraft;
  index: number;
  count: number;
  onChange(rule: RuleDraft): void;
  onMove(to: number): void;
  onRemove(): void;
  /** Drag and drop: which rule is being dragged, and where it was dropped. */
  onDragFrom(index: number): void;
  onDropAt(index: number): void;
}

export function RuleRow({ rule, index, count, onChange, onMove, onRemove, onDragFrom, onDropAt }: RuleRowProps) {
  const id = `rule-${rule.key}`;
  const title = `Rule ${index + 1}${rule.name.trim() ? `: ${rule.name.trim()}` : ''}`;
  return (
    <li
      class={`rule rule-${rule.effect}`}
      data-rule={index}
      aria-label={title}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        onDropAt(index);
      }}
    >
      <div class="rule-head">
        <span
          class="drag-handle"
          draggable
          title="Drag to reorder"
          aria-hidden="true"
          onDragStart={(e) => {
            e.dataTransfer?.setData('text/plain', String(index));
            onDragFrom(index);
          }}
        >
          ⠿
        </span>
        <strong class="rule-title">Rule {index + 1}</strong>
        <div class="field">
          <label class="field-label" for={`${id}-name`}>
            Rule name
          </label>
          <input id={`${id}-name`} type="text" value={rule.name} placeholder={`rules[${index}]`} onInput={(e) => onChange({ ...rule, name: (e.currentTarget as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label class="field-label" for={`${id}-effect`}>
            Effect
          </label>
          <select id={`${id}-effect`} value={rule.effect} onChange={(e) => onChange({ ...rule, effect: (e.currentTarget as HTMLSelectElement).value as RuleDraft['effect'] })}>
            <option value="allow">Allow</option>
            <option value="deny">Deny (overrides allow)</option>
          </select>
        </div>
        <div class="rule-actions">
          <button type="button" class="button" onClick={() => onMove(index - 1)} disabled={index === 0} aria-label={`Move rule ${index + 1} up`}>
            ↑
          </button>
          <button type="button" class="button" onClick={() => onMove(index + 1)} disabled={index === count - 1} aria-label={`Move rule ${index + 1} down`}>
            ↓
          </button>
          <button type="button" class="button danger" onClick={onRemove} aria-label={`Remove rule ${index + 1}`}>
            Remove
          </button>
        </div>
      </div>
      <div class="rule-features">
        {rule.features.map((feature, f) => (
          <FeatureEditor key={`${feature.type}-${f}`} id={`${id}-${feature.type}-${f}`} feature={feature} onChange={(next) => onChange({ ...rule, features: rule.features.map((x, i) => (i === f ? next : x)) })} />
        ))}
      </div>
      <CelField id={`${id}-condition`} value={rule.condition} onInput={(condition) => onChange({ ...rule, condition })} />
    </li>
  );
}
