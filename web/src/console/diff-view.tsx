// A unified diff (configuration documents, tool definitions), added lines green, removed lines red.
export function DiffView({ text, label }: { text: string; label: string }) {
  const lines = text.split('\n');
  return (
    <pre class="payload diff" aria-label={label} data-diff>
      {lines.map((line, i) => (
        <span key={i} class={line.startsWith('+') && !line.startsWith('+++') ? 'diff-add' : line.startsWith('-') && !line.startsWith('---') ? 'diff-del' : line.startsWith('@@') ? 'diff-hunk' : undefined}>
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}
