// A policy's webhook (pinning: a tool definition changed; approval: a call waits for a person):
// one POST per event, JSON, signed with HMAC-SHA256 of the exact body when a secret is set. One
// attempt with a timeout: the audit log is the record, the webhook a nudge, and retrying a
// failing receiver for every event would pile up. At most a few in flight; more
// are dropped (and logged) rather than queued. The secret and the URL's credentials are never logged.
import { createHmac } from 'node:crypto';
import type { Logger } from '../log.ts';

export interface WebhookConfig {
  readonly url: string;
  readonly secret?: string | undefined;
  readonly timeout: number;
}

const MAX_IN_FLIGHT = 8;
export const SIGNATURE_HEADER = 'x-gatehouse-signature';

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class SignedWebhook {
  private inFlight = 0;

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger,
    /** Which policy's webhook, in log lines and the User-Agent. */
    private readonly label: 'pinning' | 'approval',
  ) {}

  send(payload: Record<string, unknown>): void {
    const where = safeUrl(this.config.url);
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.log.warn({ webhook: where }, `${this.label} webhook: too many deliveries in flight; this event is not sent (see the audit log)`);
      return;
    }
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': `gatehouse-${this.label}` };
    if (this.config.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(body, this.config.secret);
    this.inFlight++;
    fetch(this.config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.config.timeout), redirect: 'manual' })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) this.log.warn({ webhook: where, status: response.status }, `${this.label} webhook answered with an error status`);
      })
      .catch((error: unknown) => this.log.warn({ webhook: where, error: error instanceof Error ? error.message : String(error) }, `${this.label} webhook not reached`))
      .finally(() => this.inFlight--);
  }
}

/** The URL without credentials, query or fragment (they may hold a token). */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
