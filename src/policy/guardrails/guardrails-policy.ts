// The content guardrails policy: every tool result, resource content and prompt message the API
// passes on (and the text of servers' log and progress notifications, elicitation and sampling
// requests) is read by the detectors (secrets.ts, personal-data.ts, injection.ts); what they find
// is redacted or stripped, blocked (a JSON-RPC error in place of the result) or flagged (passed,
// named in the audit trace) per detector class. Tool results are also held to the configured
// size limits and to the outputSchema their tool declared. The trace names the kinds found and
// how many, never the text.
import { GatehouseError } from '../../errors.ts';
import { errorResponse, isObject, isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../../mcp/jsonrpc.ts';
import type { Policy, PolicyContext } from '../policy.ts';
import { kindOf, mapMessageTexts, mapTexts, messageKindOf, type ResultKind, type TextFn } from './content.ts';
import { replaceFindings, type DetectorClass, type Finding } from './findings.ts';
import { findInjection } from './injection.ts';
import { OutputSchemas } from './output-schemas.ts';
import { findPersonalData } from './personal-data.ts';
import { findSecrets } from './secrets.ts';
import type { GuardrailsConfig } from './schema.ts';

const WHAT: Record<ResultKind, string> = { 'tools/call': 'The tool result was', 'resources/read': 'The resource contents were', 'prompts/get': 'The prompt was' };
const CLASS_NAMES: Record<DetectorClass, string> = { secrets: 'secret', personalData: 'personal data', injection: 'prompt-injection marker' };

export class GuardrailsPolicy implements Policy {
  readonly name = 'guardrails';
  /**
   * What it does with an answer depends on the answer and the config only; the output schemas it
   * learns from lists are learned from the first of equal answers, which it always sees.
   */
  readonly stableResponses = true;
  private readonly schemas = new OutputSchemas();
  private readonly detectors: ReadonlyArray<(text: string, field?: string) => Finding[]>;

  constructor(private readonly config: GuardrailsConfig) {
    const detectors: Array<(text: string, field?: string) => Finding[]> = [];
    if (config.secrets !== 'off') detectors.push(findSecrets);
    if (config.personalData !== 'off') detectors.push(findPersonalData);
    if (config.injection !== 'off') detectors.push(findInjection);
    this.detectors = detectors;
  }

  onResponse(ctx: PolicyContext, message: JsonRpcMessage, request: JsonRpcRequest | undefined): JsonRpcMessage | undefined {
    if ('method' in message) return this.scanMessage(ctx, message);
    if (!isResponse(message) || !isObject(message.result)) return message;
    const result = message.result;
    if (request?.method === 'tools/list') {
      this.learn(ctx, result);
      return message;
    }
    const kind = kindOf(result);
    if (kind === undefined) return message;
    const name = nameOf(request, kind);
    const trace = (allowed: boolean, rule: string, reason: string): void => {
      ctx.trace.push({ policy: 'guardrails', method: kind, ...(name !== undefined && { name }), allowed, rule, reason });
    };
    const refuse = (rule: string, reason: string, data: Record<string, unknown>): JsonRpcMessage => {
      trace(false, rule, reason);
      const error = new GatehouseError('GH_RESULT_BLOCKED', `${WHAT[kind]} withheld by a content guardrail: ${reason}.`);
      return errorResponse(message.id ?? null, error.rpc, error.message, { reason: rule, ...data, code: error.code });
    };

    // Limits and the output schema first: a result refused for them is not worth scanning.
    const limit = this.overLimit(result, kind);
    if (limit !== undefined) {
      if (this.config.limitAction === 'refuse') return refuse('limits', limit, {});
      trace(true, 'limits', `${limit} (flagged)`);
    }
    if (kind === 'tools/call' && name !== undefined && this.config.outputSchema !== 'off') {
      const verdict = this.schemas.check(serverOf(ctx, name), name, result);
      if (!verdict.ok) {
        if (this.config.outputSchema === 'refuse') return refuse('outputSchema', verdict.reason, {});
        trace(true, 'outputSchema', `${verdict.reason} (flagged)`);
      }
    }
    if (this.detectors.length === 0) return message;

    const scan = this.scan((fn) => mapTexts(result, kind, fn));
    if (scan === undefined) return message;
    if (scan.blocked !== undefined) return refuse(scan.blocked.cls, `it holds ${scan.blocked.what}`, { found: scan.blocked.detectors });
    for (const [cls, reason] of scan.found) trace(true, cls, reason);
    return scan.rewritten === result ? message : { ...message, result: scan.rewritten };
  }

  /**
   * A server's log or progress notification, elicitation or sampling request: read as its
   * answers are. One the action blocks is not passed on (a request is then answered to its
   * server with an error by the channel); the audit trace says so, without the text.
   */
  private scanMessage(ctx: PolicyContext, message: JsonRpcMessage & { method: string }): JsonRpcMessage | undefined {
    const kind = messageKindOf(message.method);
    if (kind === undefined || this.detectors.length === 0 || !('params' in message) || !isObject(message.params)) return message;
    const params = message.params;
    const scan = this.scan((fn) => mapMessageTexts(params, kind, fn));
    if (scan === undefined) return message;
    if (scan.blocked !== undefined) {
      ctx.trace.push({ policy: 'guardrails', method: kind, allowed: false, rule: scan.blocked.cls, reason: `${kind} withheld: it holds ${scan.blocked.what}` });
      return undefined;
    }
    for (const [cls, reason] of scan.found) ctx.trace.push({ policy: 'guardrails', method: kind, allowed: true, rule: cls, reason });
    return scan.rewritten === params ? message : ({ ...message, params: scan.rewritten } as JsonRpcMessage);
  }

  /**
   * One pass of the detectors over the texts `map` visits, rewriting where the action is to; a
   * block is decided on the counts, after the pass (the rewritten copy is then dropped).
   * Undefined when nothing was found.
   */
  private scan(map: (fn: TextFn) => JsonObject): { rewritten: JsonObject; blocked?: { cls: DetectorClass; what: string; detectors: string[] }; found: Array<[DetectorClass, string]> } | undefined {
    const counts = new Map<string, { cls: DetectorClass; n: number }>();
    const rewritten = map((text, field) => {
      const found: Finding[] = [];
      for (const detect of this.detectors) for (const finding of detect(text, field)) found.push(finding);
      if (found.length === 0) return text;
      for (const finding of found) {
        const count = counts.get(finding.detector);
        if (count) count.n++;
        else counts.set(finding.detector, { cls: finding.class, n: 1 });
      }
      return replaceFindings(text, found.filter((finding) => this.rewrites(finding.class)));
    });
    if (counts.size === 0) return undefined;
    const blocked = [...counts].filter(([, { cls }]) => this.config[cls] === 'block');
    if (blocked.length > 0) {
      const what = blocked.map(([detector, { cls }]) => `${CLASS_NAMES[cls]} (${detector})`).join(', ');
      return { rewritten, blocked: { cls: blocked[0]![1].cls, what, detectors: blocked.map(([detector]) => detector) }, found: [] };
    }
    const found: Array<[DetectorClass, string]> = [];
    for (const cls of ['secrets', 'personalData', 'injection'] as const) {
      const of = [...counts].filter(([, count]) => count.cls === cls);
      if (of.length === 0) continue;
      const action = this.config[cls] === 'flag' ? 'flagged' : this.config[cls] === 'strip' ? 'stripped' : 'redacted';
      found.push([cls, `found ${of.map(([detector, { n }]) => `${detector} ×${n}`).join(', ')} (${action})`]);
    }
    return { rewritten, found };
  }

  private rewrites(cls: DetectorClass): boolean {
    const action = this.config[cls];
    return action === 'redact' || action === 'strip';
  }

  private learn(ctx: PolicyContext, result: JsonObject): void {
    if (this.config.outputSchema === 'off' || !Array.isArray(result.tools)) return;
    // A federated API lists tools of several servers: each is learned under its own.
    if (ctx.targetOf === undefined) return this.schemas.learn(ctx.server, result);
    for (const tool of result.tools) if (isObject(tool) && typeof tool.name === 'string') this.schemas.learn(serverOf(ctx, tool.name), { tools: [tool] });
  }

  private overLimit(result: JsonObject, kind: ResultKind): string | undefined {
    const { maxContentItems, maxResultBytes } = this.config;
    if (maxContentItems !== undefined && kind === 'tools/call' && Array.isArray(result.content) && result.content.length > maxContentItems) {
      return `${result.content.length} content items, more than the ${maxContentItems} allowed`;
    }
    if (maxResultBytes !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(result));
      if (bytes > maxResultBytes) return `${bytes} bytes, more than the ${maxResultBytes} allowed`;
    }
    return undefined;
  }
}

/** The tool, prompt or resource the answer is for, when the request is known. */
function nameOf(request: JsonRpcRequest | undefined, kind: ResultKind): string | undefined {
  if (request === undefined || !isObject(request.params)) return undefined;
  const value = kind === 'resources/read' ? request.params.uri : request.params.name;
  return typeof value === 'string' ? value : undefined;
}

/** The server a tool name belongs to (a federated API's member), by the name the client uses. */
function serverOf(ctx: PolicyContext, name: string): string {
  return ctx.targetOf?.('tools', name)?.server ?? ctx.server;
}
