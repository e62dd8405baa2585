// The JSON object an admin POST carries, or undefined when the body is not one: `null`, an array
// or a number parse as JSON too, and a handler that then reads a member of `null` failed with a
// 500 instead of answering 400.
import type { IncomingMessage } from 'node:http';
import { readBody } from '../http/guards.ts';

/** The body as a JSON object (an empty body is `{}`); undefined when it is not JSON or not an object. */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown> | undefined> {
  const text = (await readBody(req, maxBytes)).toString('utf8') || '{}';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
