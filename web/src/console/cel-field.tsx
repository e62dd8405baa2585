// The trigger condition of a rule: a CEL expression checked as it is typed, by the server, with the
// policy's own compiler (POST /api/v1/validate/cel), so "valid" here means a deploy accepts it.
// The error names its column; a caret under the expression points at it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { manage } from '../manage.ts';

const CHECK_AFTER_MS = 250;

interface Check {
  valid: boolean;
  error?: string;
  column?: number;
}

export function CelField({ id, value, onInput }: { id: string; value: string; onInput(value: string): void }) {
  const [check, setCheck] = useState<{ expression: string; result: Check | undefined; failed?: string }>({ expression: '', result: { valid: true } });
  const asked = useRef(0);

  useEffect(() => {
    const expression = value.trim();
    if (expression === '') {
      setCheck({ expression: '', result: { valid: true } });
      return;
    }
    const mine = ++asked.current;
    setCheck({ expression: value, result: undefined });
    // Typing pauses before asking: one request per pause, not per key.
    const timer = window.setTimeout(() => {
      manage<Check>('POST', '/validate/cel', { body: { expression: value } }).then(
        ({ body }) => mine === asked.current && setCheck({ expression: value, result: body }),
        (e: Error) => mine === asked.current && setCheck({ expression: value, result: undefined, failed: e.message }),
      );
    }, CHECK_AFTER_MS);
    return () => window.clearTimeout(timer);
  }, [value]);

  const result = check.result;
  const invalid = result !== undefined && !result.valid;
  const state = value.trim() === '' ? 'empty' : check.failed ? 'unchecked' : result === undefined ? 'checking' : result.valid ? 'valid' : 'invalid';
  return (
    <div class="field form-field cel-field" data-cel-state={state}>
      <label class="field-label" for={id}>
        Trigger condition (CEL)
      </label>
      <input
        id={id}
        type="text"
        class="mono"
        value={value}
        placeholder='always; e.g. agent.labels["team"] == "support"'
        spellcheck={false}
        aria-invalid={invalid}
        aria-describedby={`${id}-status`}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <div id={`${id}-status`} class="hint" role="status" aria-live="polite">
        {state === 'empty' && 'No condition: the rule always applies.'}
        {state === 'checking' && 'Checking…'}
        {state === 'valid' && <span class="good">Valid condition.</span>}
        {state === 'unchecked' && <span class="bad">Could not check: {check.failed}</span>}
        {state === 'invalid' && result && (
          <>
            {result.column !== undefined && (
              <pre class="cel-caret" aria-hidden="true">
                {check.expression}
                {'\n'}
                {' '.repeat(Math.max(0, result.column - 1))}^
              </pre>
            )}
            <span class="bad" data-cel-error>
              {result.error}
            </span>
          </>
        )}
      </div>
    </div>
  );
}
