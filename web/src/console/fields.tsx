// Labelled form fields of the console: the label names the control (getByLabel, screen readers),
// a hint below says what is expected.
import type { ComponentChildren } from 'preact';

export function TextField(props: { id: string; label: string; value: string; onInput(value: string): void; hint?: ComponentChildren; disabled?: boolean; placeholder?: string; mono?: boolean; required?: boolean; list?: string }) {
  return (
    <div class="field form-field">
      <label class="field-label" for={props.id}>
        {props.label}
      </label>
      <input
        id={props.id}
        type="text"
        class={props.mono ? 'mono' : undefined}
        value={props.value}
        disabled={props.disabled}
        placeholder={props.placeholder}
        required={props.required}
        list={props.list}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {props.hint && (
        <span class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      )}
    </div>
  );
}

export function Choice<T extends string>(props: { name: string; legend: string; value: T; options: Array<[T, string]>; onChange(value: T): void }) {
  return (
    <fieldset class="choice">
      <legend class="field-label">{props.legend}</legend>
      {props.options.map(([value, label]) => (
        <label key={value} class="choice-option">
          <input type="radio" name={props.name} value={value} checked={props.value === value} onChange={() => props.onChange(value)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}
