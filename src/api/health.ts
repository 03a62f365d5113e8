import { z } from 'zod';
import { readinessBody, type Readiness } from '../ops/readiness.js';
import type { ApiApp } from './context.js';

/** /healthz and /readyz on the API port too, so an orchestrator can probe whichever port it watches; no token. */

const checkOutcome = z.object({ ok: z.boolean(), error: z.string().optional().describe('why not, when not ok') });
const readinessView = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.record(checkOutcome).describe('rtmp, http, http2, h2c, api (the enabled listeners), database, dataDir, disk, addon; shutdown while draining'),
});

export function healthRoutes(app: ApiApp, readiness: Readiness): void {
  const tags = ['ops'];
  // Probes come every few seconds from every load balancer: a line each would drown the request log.
  const logLevel = 'warn';

  app.get('/healthz', {
    schema: { tags, summary: 'Liveness: 200 while the process serves', response: { 200: z.object({ status: z.literal('ok') }) } },
    config: { access: 'public' },
    logLevel,
  }, async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: {
      tags, summary: 'Readiness: 200 when every check passes, else 503 naming the failing ones (cached up to 1 s)',
      response: { 200: readinessView, 503: readinessView },
    },
    config: { access: 'public' },
    logLevel,
  }, async (_req, reply) => {
    const { status, body } = readinessBody(await readiness.probe());
    return reply.code(status).header('cache-control', 'no-store').send(body);
  });
}
