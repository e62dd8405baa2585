// The operator's annotations of a tool (toolAnnotations) as badges: only the flags that are set,
// the two that matter to the taint policy (untrusted output, can send data out) in warning colours.
import type { ToolView } from '../api.ts';

type Flags = ToolView['annotations'];

const LABELS: ReadonlyArray<[keyof Flags, string, string]> = [
  ['readOnly', 'read-only', 'The tool changes nothing.'],
  ['destructive', 'destructive', 'The tool may destroy or overwrite data.'],
  ['openWorld', 'open world', 'The tool reaches things outside the server.'],
  ['untrustedOutput', 'untrusted output', 'Its results may carry text an attacker controls: a session that gets one is tainted.'],
  ['exfiltration', 'exfiltration', 'It can send data outside: refused in a tainted session.'],
];

export function AnnotationBadges({ flags }: { flags: Partial<Flags> }) {
  const set = LABELS.filter(([flag]) => flags[flag] === true);
  if (set.length === 0) return <span class="muted small">none</span>;
  return (
    <span class="annotations" data-annotations={set.map(([flag]) => flag).join(' ')}>
      {set.map(([flag, label, title]) => (
        <span key={flag} class={`badge badge-annotation badge-annotation-${flag}`} title={title}>
          {label}
        </span>
      ))}
    </span>
  );
}
