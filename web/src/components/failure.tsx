// A refusal from the management API: its sentence, and each config problem with its field.
import { ManageFailure } from '../manage.ts';
import { Notice } from './bits.tsx';

export function Failure({ error }: { error: Error | string | undefined }) {
  if (error === undefined) return null;
  const message = typeof error === 'string' ? error : error.message;
  const problems = error instanceof ManageFailure ? error.problems : [];
  return (
    <Notice kind="error">
      <span data-failure>{message}</span>
      {/* A stale ETag: the way out is to read the current version. */}
      {error instanceof ManageFailure && error.status === 412 && (
        <>
          {' '}
          <button type="button" class="button" onClick={() => location.reload()}>
            Reload
          </button>
        </>
      )}
      {problems.length > 0 && (
        <ul class="problems">
          {problems.map((p) => (
            <li key={p.field + p.message}>
              <code>{p.field}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
    </Notice>
  );
}
