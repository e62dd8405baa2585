// What changed between two documents: an RFC 6902 JSON Patch (fast-json-patch's `compare`, for
// machines and the change history) and a unified diff of their YAML (for people).
import fastJsonPatch from 'fast-json-patch';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { ControlDocument, PatchOperation } from '../store/control.ts';

export function documentPatch(before: ControlDocument, after: ControlDocument): PatchOperation[] {
  return fastJsonPatch.compare(before, after) as PatchOperation[];
}

/** The document as YAML, as `gatehouse export` writes it. */
export function documentYaml(document: ControlDocument): string {
  return stringify(document, { lineWidth: 0 });
}

/** A unified diff of the two documents' YAML; empty when they are equal. */
export function readableDiff(before: ControlDocument, after: ControlDocument, beforeName: string, afterName: string): string {
  const a = documentYaml(before);
  const b = documentYaml(after);
  if (a === b) return '';
  return createTwoFilesPatch(beforeName, afterName, a, b, undefined, undefined, { context: 3 }).split('\n').slice(1).join('\n');
}

/** Applies a client's JSON Patch to a copy of `document`; throws PatchError with the operation's index. */
export function applyPatch(document: ControlDocument, patch: unknown): ControlDocument {
  if (!Array.isArray(patch)) throw new PatchError('expected a JSON Patch: a list of operations (RFC 6902)');
  const copy = structuredClone(document);
  const problem = fastJsonPatch.validate(patch as fastJsonPatch.Operation[], copy);
  if (problem) throw new PatchError(`operation ${String(problem.index)}: ${problem.message.split('\n')[0] ?? problem.name}`);
  const result = fastJsonPatch.applyPatch(copy, patch as fastJsonPatch.Operation[], false, true).newDocument;
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw new PatchError('the patch must leave a mapping at the top level');
  return result as ControlDocument;
}

export class PatchError extends Error {}
