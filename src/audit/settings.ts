// What the audit observer needs per API, compiled once per config load: payload recording on or
// off, the size cap, the redaction, and how many response bytes the request path should keep.
import type { ConfigData } from '../config/schema.ts';
import { normalizeApiPath } from '../config/load.ts';
import type { RedactionProfiles } from './payloads.ts';
import { tenancyEnforced } from '../config/tenant-check.ts';
import { tenantOf } from '../config/tenant-schema.ts';

export interface ApiAuditSettings {
  readonly payloads: boolean;
  readonly maxPayloadBytes: number;
  /** The redaction profile (payloads.ts) that the writer applies to this API's payloads. */
  readonly redaction: number;
  /** Response bytes kept for this API: 0 (a short tail for the error code) or enough for the payload. */
  readonly captureBytes: number;
}

export interface AuditSettings {
  readonly enabled: boolean;
  readonly trustProxy: boolean;
  readonly apis: ReadonlyMap<string, ApiAuditSettings>;
  /** API name by normalised path, for exchanges refused before the API was recorded (failed authentication). */
  readonly apiByPath: ReadonlyMap<string, string>;
  /** The tenant of each API once tenants are declared (its records carry it); empty before. */
  readonly tenants: ReadonlyMap<string, string>;
}

const METADATA_ONLY: ApiAuditSettings = Object.freeze({ payloads: false, maxPayloadBytes: 0, redaction: 0, captureBytes: 0 });

/** Room for SSE framing and the notifications that come before the answer in a stream. */
const CAPTURE_SLACK = 4096;

export function compileAuditSettings(config: ConfigData, profiles: RedactionProfiles): AuditSettings {
  const audit = config.audit;
  const apis = new Map<string, ApiAuditSettings>();
  const apiByPath = new Map<string, string>();
  const tenants = new Map<string, string>();
  for (const api of config.apis) {
    if (tenancyEnforced(config)) tenants.set(api.name, tenantOf(api));
    apiByPath.set(normalizeApiPath(api.path), api.name);
    const payloads = api.audit?.payloads ?? audit.payloads;
    if (!payloads) {
      apis.set(api.name, METADATA_ONLY);
      continue;
    }
    const redaction = profiles.idOf([...audit.redact, ...(api.audit?.redact ?? [])]);
    apis.set(api.name, { payloads, maxPayloadBytes: audit.maxPayloadBytes, redaction, captureBytes: audit.maxPayloadBytes * 2 + CAPTURE_SLACK });
  }
  return { enabled: audit.enabled, trustProxy: config.trustProxy, apis, apiByPath, tenants };
}

export function settingsFor(settings: AuditSettings, api: string | undefined): ApiAuditSettings {
  return (api !== undefined && settings.apis.get(api)) || METADATA_ONLY;
}
