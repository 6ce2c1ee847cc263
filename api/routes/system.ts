import type { Client } from '@temporalio/client';
import express from 'express';
import { z } from 'zod';
import { listCapturedMail, readCapturedMail } from '../../activities/shared/mailer';
import type { Db } from '../../db';
import { ApiError } from '../errors';
import { loopbackOnly } from '../shared/hardening';
import { checkProcessConsistency } from '../shared/process-consistency';
import type { ApiRoutes } from '../route';

export type ReadinessChecks = Record<string, () => Promise<void>>;

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
  })
  .meta({ id: 'Readiness' });

export function registerHealthRoutes(routes: ApiRoutes, { readiness }: { readiness: ReadinessChecks }): void {
  routes
    .add({
      method: 'get', path: '/healthz', tag: 'System', summary: 'Liveness: the process is up', access: 'public',
      response: { schema: z.object({ status: z.literal('ok') }) },
      handler: async () => ({ status: 'ok' as const }),
    })
    .add({
      method: 'get', path: '/readyz', tag: 'System', summary: 'Readiness: the database and Temporal answer (503 when not)', access: 'public',
      response: { schema: readinessSchema },
      handler: async ({ res }) => {
        const checks: Record<string, { ok: boolean; error?: string }> = {};
        await Promise.all(
          Object.entries(readiness).map(async ([name, check]) => {
            try {
              await check();
              checks[name] = { ok: true };
            } catch (error) {
              checks[name] = { ok: false, error: error instanceof Error ? error.message : String(error) };
            }
          }),
        );
        const ready = Object.values(checks).every((result) => result.ok);
        const body = { status: ready ? ('ready' as const) : ('not_ready' as const), checks };
        res.status(ready ? 200 : 503).json(body);
        return body;
      },
    });
}

/**
 * Development only: the mail the capture transport kept, so that signed links can be followed without
 * an SMTP server. Mounted only outside production, and answers only clients on this machine.
 */
export function devMailRouter(directory: string): express.Router {
  const router = express.Router();
  router.get('/dev/mail', loopbackOnly, (_req, res) => {
    res.json({ items: listCapturedMail(directory) });
  });
  router.get('/dev/mail/:id', loopbackOnly, (req: express.Request<{ id: string }>, res) => {
    const raw = readCapturedMail(directory, req.params.id);
    if (!raw) throw ApiError.notFound('captured mail', req.params.id);
    res.type('message/rfc822').send(raw);
  });
  return router;
}

const consistencySchema = z
  .object({
    checkedAt: z.iso.datetime(),
    openCases: z.number().int(),
    runningWorkflows: z.number().int(),
    orphanedCases: z.array(
      z.object({
        caseNumber: z.string(),
        kind: z.string(),
        status: z.string(),
        workflowId: z.string(),
        problem: z.enum(['workflow_missing', 'workflow_closed']),
        workflowStatus: z.string().nullable(),
      }),
    ),
    workflowsWithoutCase: z.array(z.object({ workflowId: z.string(), runId: z.string(), workflowType: z.string(), startedAt: z.iso.datetime() })),
  })
  .meta({ id: 'ConsistencyReport' });

/** GET /admin/consistency: open cases whose workflow is missing or closed, running workflows without a case. */
export function registerConsistencyRoutes(routes: ApiRoutes, deps: { db: Db; temporal: Client; taskQueue: string }): void {
  routes.add({
    method: 'get', path: '/admin/consistency', tag: 'System', access: { roles: ['admin'] },
    summary: 'Processes out of step with their case: open cases whose workflow is missing or closed, running workflows without a case row',
    response: { schema: consistencySchema },
    handler: async () => checkProcessConsistency(deps.db, deps.temporal, { taskQueue: deps.taskQueue }),
  });
}
