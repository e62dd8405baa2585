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
import { declaredTenants, withTenantObjects } from './tenant-scope.ts';
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

const STALE_RETRIES = 5;

export class Deployments {
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
    for (let attempt = 0; ; attempt++) {
      const current = await this.draft();
      const next = edit(structuredClone(current.document));
      try {
        return await this.write(actor, action, target, current, next, tenant);
      } catch (error) {
        if (error instanceof ControlConflict && error.reason === 'stale' && attempt < STALE_RETRIES) continue;
        return conflictToHttp(error);
      }
    }
  }

  /** Replaces the whole draft if it is still at `expectedRevision` (PUT /draft, apply). */
  async replace(actor: string, document: ControlDocument, expectedRevision: number, action = 'replace draft'): Promise<Draft> {
    const current = await this.draft();
    if (current.revision !== expectedRevision) throw stale(current.revision, expectedRevision);
    return this.write(actor, action, 'draft', current, document).catch(conflictToHttp);
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
   * stays pending.
   */
  async deploy(actor: string, comment: string | undefined, expectedRevision: number | undefined, tenant?: string): Promise<VersionRecord> {
    if (tenant !== undefined) return this.deployTenant(actor, comment, expectedRevision, tenant);
    const draft = await this.draft();
    if (expectedRevision !== undefined && draft.revision !== expectedRevision) throw stale(draft.revision, expectedRevision);
    const latest = await this.latest();
    if (latest && documentPatch(latest.document, draft.document).length === 0) throw new ManagementError(409, `nothing to deploy: the draft equals version ${latest.version}`);
    const config = this.snapshot(draft.document, 'draft');
    if (draft.revision === 0) await this.store.saveDraft(draft.document, 0, actor, Date.now(), { action: 'start draft', target: 'draft', patch: [] });
    const revision = draft.revision === 0 ? 1 : draft.revision;
    const at = Date.now();
    const patch = documentPatch(latest?.document ?? emptyDocument(), draft.document);
    const version = await this.store.deploy({ actor, at, comment, expectedRevision: revision, change: { action: 'deploy', target: 'draft', patch } }).catch(conflictToHttp);
    this.onChange?.({ at, actor, action: 'deploy', target: 'draft', patch, version: version.version, tenant });
    this.apply?.(version.version, config);
    return version;
  }

  private async deployTenant(actor: string, comment: string | undefined, expectedRevision: number | undefined, tenant: string): Promise<VersionRecord> {
    for (let attempt = 0; ; attempt++) {
      const draft = await this.draft();
      if (expectedRevision !== undefined && draft.revision !== expectedRevision) throw stale(draft.revision, expectedRevision);
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
        const version = await this.store.deploy({ actor, at, comment, partial: { document, basedOn: latest?.version }, change: { action: 'deploy', target: `draft (tenant ${tenant})`, patch } });
        this.onChange?.({ at, actor, action: 'deploy', target: `draft (tenant ${tenant})`, patch, version: version.version, tenant });
        this.apply?.(version.version, config);
        return version;
      } catch (error) {
        // Another deploy came first: merge onto it.
        if (error instanceof ControlConflict && error.reason === 'stale' && attempt < STALE_RETRIES) continue;
        return conflictToHttp(error);
      }
    }
  }

  /**
   * What `deploy` would change, as `view` shows it, and the draft's revision it was read at. For
   * a tenant that is its objects from the draft onto the version in force (as `deployTenant`
   * makes them): not its tenant entry, which only a platform deploy publishes.
   */
  async pending(view: (document: ControlDocument) => ControlDocument, tenant?: string): Promise<{ diff: Diff; revision: number }> {
    const draft = await this.draft();
    const latest = await this.latest();
    const base = latest?.document ?? emptyDocument();
    const from = view(base);
    const to = view(tenant === undefined ? draft.document : withTenantObjects(base, draft.document, tenant));
    const fromName = latest ? `version ${latest.version}` : '(nothing deployed)';
    return { revision: draft.revision, diff: { from: fromName, to: 'draft', patch: documentPatch(from, to), text: readableDiff(from, to, fromName, 'draft') } };
  }

  /** Deploys version `n`'s document again as a new version; the draft becomes it (If-Match on the draft). */
  async rollback(actor: string, n: number, expectedRevision: number): Promise<VersionRecord> {
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
  return new ManagementError(412, `Precondition Failed: the draft changed since you read it (revision ${current}, you sent ${expected}); GET it again and retry`, undefined, { etag: `"draft-${current}"` });
}

function conflictToHttp(error: unknown): never {
  if (error instanceof ControlConflict) {
    if (error.reason === 'stale') throw new ManagementError(412, `Precondition Failed: ${error.message}`);
    if (error.reason === 'missing') throw new ManagementError(404, error.message);
    throw new ManagementError(409, error.message);
  }
  throw error;
}
