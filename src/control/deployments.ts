// Deployments: changes accumulate in a draft; `deploy` makes the draft the next numbered
// version and hands its snapshot to the data plane; versions are kept, compared and rolled back
// (a rollback is a new version repeating an old document). Every write is validated as a whole
// before it is stored (the draft is always deployable) and recorded with who, when and a JSON
// Patch. Knows nothing of HTTP: the management API (api.ts) and the CLI (apply/export) call it.
import type { ConfigData } from '../config/schema.ts';
import { ConfigError } from '../config/errors.ts';
import { ControlConflict, type ControlDocument, type ControlStore, type DraftRecord, type VersionRecord } from '../store/control.ts';
import { emptyDocument, snapshotConfig } from './document.ts';
import { documentPatch, readableDiff } from './diff.ts';
import { ManagementError, badRequest } from './errors.ts';
import { declaredTenants, tenantView, withTenantObjects } from './tenant-scope.ts';
import { draftEtag, etagOf, preconditionFailed, revisionOfEtag } from './etag.ts';
import { Serial } from './serial.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import type { ConfigChange } from '../audit/config-events.ts';

export interface Draft {
  document: ControlDocument;
  /** 0 before the first write (the draft is then the latest version's document, or empty). */
  revision: number;
  updatedAt: number | undefined;
  updatedBy: string | undefined;
}

export interface Diff {
  from: string;
  to: string;
  patch: ReturnType<typeof documentPatch>;
  text: string;
}

/** What a deploy hands to the data plane: called after the version is stored. */
export type ApplySnapshot = (version: number, config: ConfigData) => void;

/** Writes lost to another node's write in a row before giving up (this node's are serialized). */
const STALE_RETRIES = 10;

/**
 * The ETag of what a tenant's deploy would publish: its servers, APIs and agents in the draft
 * (not its tenant entry, which only a platform deploy publishes). Another tenant's edit, or the
 * platform's elsewhere, leaves it as it is.
 */
export function pendingEtag(document: ControlDocument, tenant: string): string {
  const { tenants: _entry, ...objects } = tenantView(document, tenant);
  return `"pending-${etagOf({ tenant, objects }).slice(1)}`;
}

export class Deployments {
  /** The draft's writers and deployers through this node, one at a time (control/serial.ts). */
  private readonly serial = new Serial();

  constructor(
    readonly store: ControlStore,
    private readonly node: Record<string, unknown>,
    private readonly env: NodeJS.ProcessEnv,
    private readonly apply: ApplySnapshot | undefined,
    /** Where every stored change is recorded beside the store's own history: the audit log. */
    private readonly onChange?: (change: ConfigChange) => void,
  ) {}

  async draft(): Promise<Draft> {
    const record = await this.store.getDraft();
    if (record) return draftOf(record);
    const latest = await this.latest();
    return { document: latest?.document ?? emptyDocument(), revision: 0, updatedAt: undefined, updatedBy: undefined };
  }

  async latest(): Promise<VersionRecord | undefined> {
    const n = await this.store.latestVersion();
    return n === undefined ? undefined : this.store.getVersion(n);
  }

  /** The validated config of a document (throws a 400 naming the field). */
  snapshot(document: ControlDocument, label: string): ConfigData {
    try {
      return snapshotConfig(this.node, document, label, this.env);
    } catch (error) {
      if (error instanceof ConfigError) throw badRequest(`invalid configuration (${label}): ${error.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, error.problems.map(({ field, message }) => ({ field, message })));
      throw error;
    }
  }

  /**
   * Changes the draft with `edit` (which reads the current document, checks its preconditions and
   * returns the next one). Retried on a concurrent write elsewhere in the draft: `edit` runs
   * again on the new document and checks its object's ETag again.
   */
  async change(actor: string, action: string, target: string, edit: (document: ControlDocument) => ControlDocument, tenant?: string): Promise<Draft> {
    return this.serial.run('draft', async () => {
      for (let attempt = 0; ; attempt++) {
        const current = await this.draft();
        const next = edit(structuredClone(current.document));
        try {
          return await this.write(actor, action, target, current, next, tenant);
        } catch (error) {
          // Another node wrote the draft meanwhile: not the caller's stale read (its object's
          // ETag is checked again by `edit`), so never a 412 of its own.
          if (error instanceof ControlConflict && error.reason === 'stale') {
            if (attempt < STALE_RETRIES) continue;
            throw busy();
          }
          return conflictToHttp(error);
        }
      }
    });
  }

  /** Replaces the whole draft if it is still at `expectedRevision` (PUT /draft, apply). */
  async replace(actor: string, document: ControlDocument, expectedRevision: number, action = 'replace draft'): Promise<Draft> {
    return this.serial.run('draft', async () => {
      const current = await this.draft();
      if (current.revision !== expectedRevision) throw stale(current.revision, expectedRevision);
      return this.write(actor, action, 'draft', current, document).catch(conflictToHttp);
    });
  }

  private async write(actor: string, action: string, target: string, current: Draft, next: ControlDocument, tenant?: string): Promise<Draft> {
    this.snapshot(next, 'draft');
    const patch = documentPatch(current.document, next);
    const at = Date.now();
    const saved = await this.store.saveDraft(next, current.revision, actor, at, { action, target, patch });
    this.onChange?.({ at, actor, action, target, patch, tenant });
    return draftOf(saved);
  }

  /**
   * Deploys the draft as the next version (refused when it equals the version in force). A
   * tenant's admin deploys the tenant's objects only (`withTenantObjects`): the rest of the draft
   * stays pending. `ifMatch` (optional) is the ETag read with the diff: for the platform the
   * draft's (it deploys all of it, so any change to the draft is a change to what it deploys);
   * for a tenant its `pendingEtag` (or the draft's, stricter, as before).
   */
  async deploy(actor: string, comment: string | undefined, ifMatch: string | undefined, tenant?: string): Promise<VersionRecord> {
    return this.serial.run('draft', () => (tenant !== undefined ? this.deployTenant(actor, comment, ifMatch, tenant) : this.deployAll(actor, comment, ifMatch)));
  }

  private async deployAll(actor: string, comment: string | undefined, ifMatch: string | undefined): Promise<VersionRecord> {
    const expected = ifMatch === undefined || ifMatch.trim() === '*' ? undefined : revisionOfEtag(ifMatch);
    if (ifMatch !== undefined && ifMatch.trim() !== '*' && expected === undefined) throw preconditionFailed('If-Match must be the draft\'s ETag ("draft-<revision>", from GET /api/v1/draft or /api/v1/draft/diff)', undefined, '/api/v1/draft');
    for (let attempt = 0; ; attempt++) {
      const draft = await this.draft();
      if (expected !== undefined && draft.revision !== expected) throw stale(draft.revision, expected);
      const latest = await this.latest();
      if (latest && documentPatch(latest.document, draft.document).length === 0) throw new ManagementError(409, `nothing to deploy: the draft equals version ${latest.version}`);
      const config = this.snapshot(draft.document, 'draft');
      const at = Date.now();
      const patch = documentPatch(latest?.document ?? emptyDocument(), draft.document);
      try {
        if (draft.revision === 0) await this.store.saveDraft(draft.document, 0, actor, at, { action: 'start draft', target: 'draft', patch: [] });
        const revision = draft.revision === 0 ? 1 : draft.revision;
        const version = await this.store.deploy({ actor, at, comment, expectedRevision: revision, change: { action: 'deploy', target: 'draft', patch } });
        this.onChange?.({ at, actor, action: 'deploy', target: 'draft', patch, version: version.version });
        this.apply?.(version.version, config);
        return version;
      } catch (error) {
        if (error instanceof ControlConflict && error.reason === 'stale') {
          // The draft changed on another node after it was read here: what the caller named (if
          // anything) is checked again on the new draft.
          if (attempt < STALE_RETRIES) continue;
          throw busy();
        }
        return conflictToHttp(error);
      }
    }
  }

  private async deployTenant(actor: string, comment: string | undefined, ifMatch: string | undefined, tenant: string): Promise<VersionRecord> {
    for (let attempt = 0; ; attempt++) {
      const draft = await this.draft();
      if (ifMatch !== undefined) checkPending(ifMatch, draft, tenant);
      const latest = await this.latest();
      const base = latest?.document ?? emptyDocument();
      // Its objects would name a tenant the live configuration lacks: say whose step that is.
      if (tenant !== DEFAULT_TENANT && !declaredTenants(base).includes(tenant)) throw new ManagementError(409, `tenant "${tenant}" is not deployed yet: a platform admin deploys it first (it is in the draft only)`);
      const document = withTenantObjects(base, draft.document, tenant);
      const patch = documentPatch(base, document);
      if (patch.length === 0) throw new ManagementError(409, `nothing to deploy for tenant "${tenant}": its objects in the draft equal ${latest ? `version ${latest.version}` : 'what is deployed'}`);
      const config = this.snapshot(document, `draft of tenant "${tenant}"`);
      const at = Date.now();
      try {
        // At the draft's revision read here, so that what is published is what was checked; a
        // write elsewhere in the draft (another tenant's) only makes this loop read it again.
        const version = await this.store.deploy({ actor, at, comment, expectedRevision: draft.revision, partial: { document, basedOn: latest?.version }, change: { action: 'deploy', target: `draft (tenant ${tenant})`, patch } });
        this.onChange?.({ at, actor, action: 'deploy', target: `draft (tenant ${tenant})`, patch, version: version.version, tenant });
        this.apply?.(version.version, config);
        return version;
      } catch (error) {
        // Another deploy or a write of the draft came first: merge onto it.
        if (error instanceof ControlConflict && error.reason === 'stale') {
          if (attempt < STALE_RETRIES) continue;
          throw busy();
        }
        return conflictToHttp(error);
      }
    }
  }

  /**
   * What `deploy` would change, as `view` shows it, and the draft's revision it was read at. For
   * a tenant that is its objects from the draft onto the version in force (as `deployTenant`
   * makes them): not its tenant entry, which only a platform deploy publishes.
   */
  async pending(view: (document: ControlDocument) => ControlDocument, tenant?: string): Promise<{ diff: Diff; revision: number; etag: string }> {
    const draft = await this.draft();
    const latest = await this.latest();
    const base = latest?.document ?? emptyDocument();
    const from = view(base);
    const to = view(tenant === undefined ? draft.document : withTenantObjects(base, draft.document, tenant));
    const fromName = latest ? `version ${latest.version}` : '(nothing deployed)';
    return { revision: draft.revision, etag: tenant === undefined ? draftEtag(draft.revision) : pendingEtag(draft.document, tenant), diff: { from: fromName, to: 'draft', patch: documentPatch(from, to), text: readableDiff(from, to, fromName, 'draft') } };
  }

  /** Deploys version `n`'s document again as a new version; the draft becomes it (If-Match on the draft). */
  async rollback(actor: string, n: number, expectedRevision: number): Promise<VersionRecord> {
    return this.serial.run('draft', () => this.rollbackNow(actor, n, expectedRevision));
  }

  private async rollbackNow(actor: string, n: number, expectedRevision: number): Promise<VersionRecord> {
    const target = await this.store.getVersion(n);
    if (!target) throw new ManagementError(404, `version ${n} not found`);
    const config = this.snapshot(target.document, `version ${n}`);
    const latest = await this.latest();
    const at = Date.now();
    const patch = documentPatch(latest?.document ?? emptyDocument(), target.document);
    const version = await this.store
      .deploy({ actor, at, rollbackTo: n, expectedRevision, comment: `rollback to version ${n}`, change: { action: 'rollback', target: `versions/${n}`, patch } })
      .catch(conflictToHttp);
    this.onChange?.({ at, actor, action: 'rollback', target: `versions/${n}`, patch, version: version.version });
    this.apply?.(version.version, config);
    return version;
  }

  /** `view` narrows both documents first (a tenant's objects only: control/tenant-scope.ts). */
  async diff(from: number | 'draft' | 'empty', to: number | 'draft', view: (document: ControlDocument) => ControlDocument = (d) => d): Promise<Diff> {
    const load = async (which: number | 'draft' | 'empty'): Promise<[string, ControlDocument]> => {
      if (which === 'empty') return ['(nothing deployed)', emptyDocument()];
      if (which === 'draft') return ['draft', (await this.draft()).document];
      const version = await this.store.getVersion(which);
      if (!version) throw new ManagementError(404, `version ${which} not found`);
      return [`version ${which}`, version.document];
    };
    const [fromName, whole] = await load(from);
    const [toName, wholeTo] = await load(to);
    const a = view(whole);
    const b = view(wholeTo);
    return { from: fromName, to: toName, patch: documentPatch(a, b), text: readableDiff(a, b, fromName, toName) };
  }
}

function draftOf(record: DraftRecord): Draft {
  return { document: record.document, revision: record.revision, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
}

function stale(current: number, expected: number): ManagementError {
  return preconditionFailed(`the draft changed since you read it (revision ${current}, you sent ${expected}); GET it again and retry`, draftEtag(current), '/api/v1/draft');
}

/** A tenant's deploy names what it reviewed: its pending changes (or, stricter, the whole draft). */
function checkPending(ifMatch: string, draft: Draft, tenant: string): void {
  const current = pendingEtag(draft.document, tenant);
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(current) || tags.includes(draftEtag(draft.revision))) return;
  throw preconditionFailed(`tenant "${tenant}"'s pending changes changed since you read them (ETag now ${current}); GET /api/v1/draft/diff again and retry`, current, '/api/v1/draft/diff');
}

/** Other nodes kept winning the race for the draft: nothing was stale on the caller's side. */
function busy(): ManagementError {
  return new ManagementError(503, 'Service Unavailable: the draft is being changed on other nodes too often for this change to land; retry in a moment', undefined, { 'retry-after': '1' });
}

function conflictToHttp(error: unknown): never {
  if (error instanceof ControlConflict) {
    if (error.reason === 'stale') throw new ManagementError(412, `Precondition Failed: ${error.message}`);
    if (error.reason === 'missing') throw new ManagementError(404, error.message);
    throw new ManagementError(409, error.message);
  }
  throw error;
}
