// One feature of a rule (Tools, Resources or Prompts): its method checkboxes and its name pattern
// (Any, Literal, Glob, Regex and the value). Methods are exactly those the config's ACL accepts.
import { FEATURE_LABELS, FEATURE_METHODS, PATTERN_LABELS, PATTERN_TYPES, type FeatureDraft, type PatternType } from './model.ts';

const PLACEHOLDER: Record<FeatureDraft['type'], string> = { tools: 'get_weather', resources: 'file:///docs/*', prompts: 'summarize' };

export function FeatureEditor({ id, feature, onChange }: { id: string; feature: FeatureDraft; onChange(feature: FeatureDraft): void }) {
  const label = FEATURE_LABELS[feature.type];
  const toggle = (method: string, on: boolean) => onChange({ ...feature, methods: on ? [...feature.methods, method] : feature.methods.filter((m) => m !== method) });
  const used = feature.methods.length > 0;
  return (
    <fieldset class={`feature${used ? ' feature-used' : ''}`} data-feature={feature.type}>
      <legend>{label}</legend>
      <div class="feature-methods">
        {FEATURE_METHODS[feature.type].map((method) => (
          <label key={method} class="choice-option mono">
            <input type="checkbox" checked={feature.methods.includes(method)} onChange={(e) => toggle(method, (e.currentTarget as HTMLInputElement).checked)} />
            {method}
          </label>
        ))}
      </div>
      <div class="feature-pattern">
        <div class="field">
          <label class="field-label" for={`${id}-pattern`}>
            {label} name pattern
          </label>
          <select id={`${id}-pattern`} value={feature.patternType} onChange={(e) => onChange({ ...feature, patternType: (e.currentTarget as HTMLSelectElement).value as PatternType })}>
            {PATTERN_TYPES.map((t) => (
              <option key={t} value={t}>
                {PATTERN_LABELS[t]}
              </option>
            ))}
          </select>
        </div>
        {feature.patternType !== 'any' && (
          <div class="field">
            <label class="field-label" for={`${id}-value`}>
              {label} {PATTERN_LABELS[feature.patternType].toLowerCase()} value
            </label>
            <input id={`${id}-value`} type="text" class="mono" value={feature.patternValue} placeholder={PLACEHOLDER[feature.type]} onInput={(e) => onChange({ ...feature, patternValue: (e.currentTarget as HTMLInputElement).value })} />
          </div>
        )}
      </div>
      {feature.arguments && <p class="hint">Argument constraints of {Object.keys(feature.arguments).join(', ')} are kept as they are (edit them in the document).</p>}
    </fieldset>
  );
}
