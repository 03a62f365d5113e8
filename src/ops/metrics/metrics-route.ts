import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { ApiApp } from '../../api/context.js';
import { ApiError } from '../../api/errors.js';

export const METRICS_PATH = '/metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * GET /metrics on the API port, in Prometheus's text format. Public unless `token` is set;
 * then it needs `Authorization: Bearer <token>` (compared in constant time) and answers 401
 * JSON otherwise, like the API's own routes. Left out of the OpenAPI document: Prometheus, not an
 * API client, reads it.
 */
export function registerMetricsRoute(app: ApiApp, registry: Registry, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  app.get(METRICS_PATH, { schema: { hide: true }, config: { access: 'public' } }, async (req, reply) => {
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      throw new ApiError('UNAUTHORIZED', 'metrics.token is set: send Authorization: Bearer <metrics.token>', undefined,
        { 'www-authenticate': 'Bearer realm="sigma-metrics"' });
    }
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
  });
}
