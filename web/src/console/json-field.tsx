// A JSON object typed into a text area (a tool call's arguments, token claims), parsed as it is
// typed: the field says whether it is a JSON object and, if not, what is wrong and where, so a
// simulation is never asked with text the server would refuse.
import { useMemo } from 'preact/hooks';

export type JsonObject = Record<string, unknown>;

/** The object, nothing (empty text), or why the text is not a JSON object. */
export function parseJsonObject(text: string): { value: JsonObject | undefined } | { error: string } {
  if (text.trim() === '') return { value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not JSON: ${(e as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: `Expected a JSON object ({…}), not ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}.` };
  return { value: value as JsonObject };
}

export function JsonField({ id, label, value, onInput, hint, placeholder }: { id: string; label: string; value: string; onInput(value: string): void; hint: string; placeholder?: string }) {
  const parsed = useMemo(() => parseJsonObject(value), [value]);
  const error = 'error' in parsed ? parsed.error : undefined;
  const state = value.trim() === '' ? 'empty' : error ? 'invalid' : 'valid';
  return (
    <div class="field form-field json-field" data-json-state={state}>
      <label class="field-label" for={id}>
        {label}
      </label>
      <textarea id={id} class="mono" rows={3} value={value} placeholder={placeholder} spellcheck={false} aria-invalid={error !== undefined} aria-describedby={`${id}-status`} onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)} />
      <div id={`${id}-status`} class="hint" role="status" aria-live="polite">
        {state === 'empty' && hint}
        {state === 'valid' && <span class="good">A JSON object.</span>}
        {error && (
          <span class="bad" data-json-error>
            {error}
          </span>
        )}
      </div>
    </div>
  );
}
