// Refusals of the management API: an HTTP status and a JSON body `{ error, problems? }`. Config
// problems carry the field path and the message `gatehouse check` prints for the same mistake.
import type { ConfigProblem } from '../config/errors.ts';

export class ManagementError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems?: ReadonlyArray<Pick<ConfigProblem, 'field' | 'message'>>,
    readonly headers: Record<string, string> = {},
    /** More members of the JSON body, e.g. the object and current ETag of a 412. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return this.problems ? { error: this.message, problems: this.problems, ...this.details } : { error: this.message, ...this.details };
  }
}

export const notFound = (what: string) => new ManagementError(404, `${what} not found`);
export const badRequest = (message: string, problems?: ReadonlyArray<Pick<ConfigProblem, 'field' | 'message'>>) => new ManagementError(400, message, problems);
