// Recorded payloads, in two steps. On the request thread, when an exchange ends, a record takes
// what it needs as it is (JSON text of the params, the kept response body): no redaction, no
// parsing of the answer. In the audit writer thread, before anything stores the record, the
// payloads are found, redacted and cut (`finishPayloads`). A record that goes to the spill file
// is finished on the request thread first: no secret is ever written in clear.
import type { AuditEvent } from './event.ts';
import { compileRedactor, type Redactor } from './redact.ts';
import { responses } from './answers.ts';

/** A record's payloads as the exchange left them. Never stored as such (see AuditEvent.raw). */
export interface RawPayloads {
  /** The redaction profile (RedactionProfiles) of the record's API. */
  readonly redaction: number;
  /** Longest request or response kept, bytes (audit.maxPayloadBytes). */
  readonly maxBytes: number;
  /** JSON text of the request's params (or of a response's result or error); cut when it was very long. */
  readonly request: string | undefined;
  /** JSON text of the answer a policy gave in the server's place. */
  readonly answer: string | undefined;
  /** The response body as kept, where the answer to the record's request is looked up by its id. */
  readonly body: string | undefined;
  /** The body belongs to this record alone: when no whole answer is found in it (a cut stream), it is redacted as text. */
  readonly bodyIsOwn: boolean;
}

/**
 * JSON text of a payload for a record. Text longer than `room` is cut (with room to spare over
 * the final cap, so that the cut is never what the final payload ends on), and then redacted as
 * text, not as JSON.
 */
export function payloadText(value: unknown, room: number): string | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text.length > room ? text.slice(0, room) : text;
}

/** Cuts text to `max` bytes of UTF-8, saying how much was left out. */
export function cap(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  return `${bytes.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '')}…[cut: ${bytes.length - max} more bytes]`;
}

/** JSON text redacted as JSON when it parses (field names count), else as text. */
function redactJsonText(text: string, redactor: Redactor): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return redactor.text(text);
  }
  return JSON.stringify(redactor.value(parsed));
}

/** The answers found in a body, for the records of one batch: parsed once per body. */
export class AnswerLookup {
  private body: string | undefined;
  private found: Map<string, Record<string, unknown>> | undefined;

  get(body: string, id: string): Record<string, unknown> | undefined {
    if (body !== this.body) {
      this.body = body;
      this.found = responses(body);
    }
    return this.found!.get(id);
  }
}

/** Turns a record's raw payloads into its stored `request` and `response`, redacted and cut. */
export function finishPayloads(event: AuditEvent, redactor: Redactor, answers = new AnswerLookup()): void {
  const raw = event.raw;
  if (raw === undefined) return;
  event.raw = undefined;
  const max = raw.maxBytes;
  if (raw.request !== undefined) event.request = cap(redactJsonText(raw.request, redactor), max);
  if (raw.answer !== undefined) {
    event.response = cap(redactJsonText(raw.answer, redactor), max);
  } else if (raw.body !== undefined && raw.body !== '') {
    const found = event.rpcId === undefined ? undefined : answers.get(raw.body, event.rpcId);
    if (found !== undefined) event.response = cap(JSON.stringify(redactor.value(found)), max);
    else if (raw.bodyIsOwn) event.response = cap(redactor.text(raw.body), max);
  }
}

/**
 * The redaction settings in force, by number: the request thread names a record's profile, the
 * writer thread (told of each profile once, before any record that names it) applies it.
 * Profiles are never renumbered, so a record queued before a reload keeps the redaction of its
 * time.
 */
export class RedactionProfiles {
  private readonly ids = new Map<string, number>();
  private readonly fields: Array<readonly string[]> = [];
  private readonly redactors: Array<Redactor | undefined> = [];
  private announced = 0;

  /** The profile redacting these extra field names (made on first use). */
  idOf(fields: readonly string[]): number {
    const key = JSON.stringify(fields);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.fields.length;
      this.ids.set(key, id);
      this.fields.push([...fields]);
    }
    return id;
  }

  /** The writer's side: a profile the request thread made. */
  define(id: number, fields: readonly string[]): void {
    this.fields[id] = [...fields];
    this.redactors[id] = undefined;
  }

  /** The compiled redactor of a profile (compiled on first use; an unknown one still redacts what always is). */
  redactor(id: number): Redactor {
    let redactor = this.redactors[id];
    if (!redactor) this.redactors[id] = redactor = compileRedactor(this.fields[id] ?? []);
    return redactor;
  }

  /** Profiles made since the last call, to tell the writer about. */
  unannounced(): Array<[id: number, fields: readonly string[]]> {
    const fresh: Array<[number, readonly string[]]> = [];
    for (; this.announced < this.fields.length; this.announced++) fresh.push([this.announced, this.fields[this.announced]!]);
    return fresh;
  }
}
