// What the admin listener serves behind admin authentication: the dashboard's JSON API under
// /api/ (src/admin/api) and its built files (dist/web) for every other path. Add admin routes
// here; the listener (server.ts) has already checked Host/Origin and admin authentication (so
// the routes carry no Host/Origin policy of their own).
import type { ConfigData } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { AuditReader } from '../audit/reader.ts';
import type { AuditSinkStatus } from '../audit/audit.ts';
import { Routes } from '../http/routes.ts';
import { adminApi, type AuditVerify } from './api/index.ts';
import { dashboardBuilt, serveDashboard } from './static.ts';
import { sendHtml } from './pages.ts';

export interface DashboardDeps {
  config(): ConfigData;
  sessionCounts(): Record<string, number>;
  reader(): AuditReader | undefined;
  /** Whether the audit sink is open (a Postgres sink may be unreachable and retried). */
  auditSink?(): AuditSinkStatus | undefined;
  /** The hash chains' check, when records are chained. */
  verifyAudit?(): AuditVerify | undefined;
  readonly log: Logger;
}

export function dashboardRoutes(deps: DashboardDeps): Routes {
  const routes = new Routes();
  routes.add('/api/*', adminApi(deps), undefined);
  if (dashboardBuilt()) {
    routes.add('/*', serveDashboard(), undefined);
  } else {
    // A checkout that was not built: say how to get the screens instead of a bare 404.
    routes.add('/', (_req, res) =>
      sendHtml(res, 200, 'Dashboard not built', '<h1>Gatehouse admin</h1><p>The dashboard files are not built in this installation: run <code>npm run build</code>. Metrics are at <a href="/metrics">/metrics</a>.</p>'),
      undefined,
    );
  }
  return routes;
}
