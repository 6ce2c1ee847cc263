import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { Db } from '../db';
import { createCalendarProvider, type CalendarProvider } from '../db/repositories/calendar';
import type { Mailer } from '../activities/shared/mailer';
import { systemClock, type Clock } from '../activities/shared/clock';
import type { SignedLinks } from '../activities/shared/signed-links';
import type { Config } from '../activities/shared/config';
import { authenticate } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { registerBillingRoutes } from './billing/routes';
import { registerDeadlineBoardRoutes } from './boards/deadlines';
import { faultRepairLinkActions } from './fault-repair/link-actions';
import { registerPartSwapRoutes } from './fault-repair/part-swaps';
import { faultReportLinkActions, registerFaultReportLinkRoutes } from './fault-repair/report-link';
import { registerFaultRepairRoutes } from './fault-repair/routes';
import { rmaRepairLinkActions } from './rma-repair/link-actions';
import { registerRmaRepairRoutes } from './rma-repair/routes';
import { rmaRepairTasks } from './rma-repair/tasks';
import { goodsClaimEvidenceListener } from './goods-claim/evidence-listener';
import { goodsClaimLinkActions } from './goods-claim/link-actions';
import { registerGoodsClaimRoutes } from './goods-claim/routes';
import { goodsClaimTasks } from './goods-claim/tasks';
import { doaClaimLinkActions, registerDoaApplicationLinkRoutes } from './doa-claim/link-actions';
import { registerDoaClaimRoutes } from './doa-claim/routes';
import { doaClaimTasks } from './doa-claim/tasks';
import { registerEvidenceRoutes, type EvidenceListener } from './evidence/routes';
import { consoleRouter } from './console/router';
import { customerPagesRouter } from './pages/customer-pages';
import { API_ROUTES_LOCAL, ApiRoutes } from './route';
import { allowedMethods, docsSecurityHeaders, securityHeaders } from './shared/hardening';
import { linkRateLimit } from './shared/rate-limit';
import { requestLogging } from './shared/request-log';
import { registerLinkRoutes, type LinkAction } from './routes/links';
import { registerCaseRoutes } from './routes/cases';
import { registerMasterDataRoutes } from './routes/master-data';
import { registerRulesRoutes } from './routes/rules';
import { faultRepairTasks } from './fault-repair/tasks';
import { registerIncidentCloseOutRoutes } from './incident-close-out/routes';
import { incidentCloseOutTasks } from './incident-close-out/tasks';
import { registerIncidentRoutes } from './incident/routes';
import { incidentTasks } from './incident/tasks';
import { registerMyTaskRoutes } from './me/routes';
import { documentTasks, sparePartTasks } from './me/tasks';
import { signOffLinkActions } from './sign-off/link-actions';
import { rectificationSiteLinkActions, rectificationSiteTasks, registerRectificationSiteRoutes } from './rectification/site-routes';
import { rectificationCampaignLinkActions } from './rectification/link-actions';
import { registerRectificationCampaignRoutes } from './rectification/routes';
import { rectificationCampaignTasks } from './rectification/tasks';
import { registerSignOffRoutes } from './sign-off/routes';
import { sparePartLinkActions } from './spare-part/link-actions';
import { registerSparePartRoutes } from './spare-part/routes';
import { devMailRouter, registerConsistencyRoutes, registerHealthRoutes, type ReadinessChecks } from './routes/system';

export interface AppDependencies {
  config: Config;
  db: Db;
  logger: Logger;
  links: SignedLinks;
  /** Temporal client for the process endpoints; absent only in tests that exercise the HTTP layer alone. */
  temporal?: Client;
  /** For the few emails the API sends itself (e.g. an application link); required with `temporal`. */
  mailer?: Mailer;
  readiness: ReadinessChecks;
  /** Extra signed-link actions (tests); each process's own are registered with its routes. */
  linkActions?: readonly LinkAction[];
  /** Extra listeners told of new evidence (tests); each process's own are added with its routes. */
  evidenceListeners?: readonly EvidenceListener[];
  /** The business calendar; built from `db` when absent. */
  calendar?: CalendarProvider;
  /** What "now" is for the steps the API stamps; the wall clock when absent. */
  clock?: Clock;
  /** Serves GET /dev/mail from this folder (development mail capture); never set in production. */
  mailCaptureDirectory?: string;
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestLogging(deps.logger));
  app.use(securityHeaders());
  // Signed links (customer and application links, JSON and HTML) by client address and by link.
  app.use('/links', linkRateLimit(deps.db, deps.config.rateLimits.links));
  // Bodies are read by each route once its caller is authenticated (see ApiRoutes).
  app.use(authenticate(deps.db));

  const routes = new ApiRoutes({ db: deps.db });
  app.locals[API_ROUTES_LOCAL] = routes;
  registerHealthRoutes(routes, { readiness: deps.readiness });
  registerMasterDataRoutes(routes, deps);
  registerCaseRoutes(routes, { db: deps.db });
  registerDeadlineBoardRoutes(routes, { db: deps.db, clock: deps.clock ?? systemClock });
  registerBillingRoutes(routes, { db: deps.db });
  registerRulesRoutes(routes, { db: deps.db, calendar: deps.calendar ?? createCalendarProvider(deps.db) });
  const linkActions: LinkAction[] = [...(deps.linkActions ?? [])];
  // Processes that wait for evidence (e.g. a goods claim) push their listener here.
  const evidenceListeners: EvidenceListener[] = [...(deps.evidenceListeners ?? [])];
  if (deps.temporal && deps.mailer) {
    const processDeps = {
      db: deps.db,
      temporal: deps.temporal,
      taskQueue: deps.config.temporal.taskQueue,
      links: deps.links,
      mailer: deps.mailer,
      clock: deps.clock ?? systemClock,
      logger: deps.logger,
    };
    registerSparePartRoutes(routes, processDeps);
    registerSignOffRoutes(routes, processDeps);
    registerFaultRepairRoutes(routes, { ...processDeps, logger: deps.logger });
    registerIncidentRoutes(routes, { ...processDeps, logger: deps.logger });
    registerIncidentCloseOutRoutes(routes, processDeps);
    registerRectificationSiteRoutes(routes, processDeps);
    registerRectificationCampaignRoutes(routes, processDeps);
    registerRmaRepairRoutes(routes, { ...processDeps, logger: deps.logger });
    registerFaultReportLinkRoutes(routes, processDeps);
    registerPartSwapRoutes(routes, processDeps);
    registerGoodsClaimRoutes(routes, processDeps);
    evidenceListeners.push(goodsClaimEvidenceListener(processDeps));
    registerDoaClaimRoutes(routes, processDeps);
    registerDoaApplicationLinkRoutes(routes, processDeps);
    registerMyTaskRoutes(routes, { db: deps.db, sources: [sparePartTasks, documentTasks, faultRepairTasks, rmaRepairTasks, doaClaimTasks, goodsClaimTasks, incidentTasks, incidentCloseOutTasks, rectificationSiteTasks, rectificationCampaignTasks] });
    registerConsistencyRoutes(routes, processDeps);
    linkActions.push(...doaClaimLinkActions(processDeps));
    linkActions.push(...rmaRepairLinkActions(processDeps));
    linkActions.push(...sparePartLinkActions(processDeps), ...signOffLinkActions(processDeps), ...faultRepairLinkActions(processDeps), ...faultReportLinkActions(processDeps));
    linkActions.push(...goodsClaimLinkActions(processDeps));
    linkActions.push(...rectificationSiteLinkActions(processDeps));
    linkActions.push(...rectificationCampaignLinkActions(processDeps));
  }
  const linkService = registerLinkRoutes(routes, { db: deps.db, links: deps.links, actions: linkActions });
  const evidence = registerEvidenceRoutes(routes, { db: deps.db, linkService, listeners: evidenceListeners, clock: deps.clock ?? systemClock, logger: deps.logger });

  const document = routes.openApiDocument(
    {
      title: 'fieldops API',
      version: '1.0.0',
      description: 'Back office for IT and telecom field service: master data, processes run as Temporal workflows, customer signed links.',
    },
    deps.config.publicBaseUrl,
  );
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // Tags collapsed: Swagger UI 5 renders an OpenAPI 3.1 document of this size (155 operations) so
  // slowly that, expanded, a browser shows only the first few operations; each tag opens on a click.
  const docsOptions = { customSiteTitle: 'fieldops API', swaggerOptions: { validatorUrl: null, docExpansion: 'none', filter: true } };
  app.use('/docs', docsSecurityHeaders(swaggerUi.generateHTML(document, docsOptions), deps.config.publicBaseUrl), swaggerUi.serve, swaggerUi.setup(document, docsOptions));
  const devMail = Boolean(deps.mailCaptureDirectory) && deps.config.env !== 'production';
  if (deps.mailCaptureDirectory && devMail) app.use(devMailRouter(deps.mailCaptureDirectory));
  // The staff console: HTML pages that read and act through the routes below.
  app.use(
    consoleRouter({
      db: deps.db,
      links: deps.links,
      publicBaseUrl: deps.config.publicBaseUrl,
      secureCookies: deps.config.env === 'production',
      clock: deps.clock ?? systemClock,
      routeTable: () => routes.table(),
    }),
  );
  const otherRoutes = [{ method: 'get', path: '/openapi.json' }, ...(devMail ? [{ method: 'get', path: '/dev/mail' }, { method: 'get', path: '/dev/mail/:id' }] : [])];
  const methods = allowedMethods(() => [...routes.table(), ...otherRoutes]);
  app.use(methods.options);
  // Customer links opened in a browser get HTML pages; anything else goes on to the JSON routes.
  app.use(customerPagesRouter({ linkService, secret: deps.config.signedLinkSecret, evidence }));
  app.use(routes.router);

  // A known path with another method (TRACE too): 405 with the methods its routes take.
  app.use(methods.fallback);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
