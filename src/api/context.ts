import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ChannelRuntime } from '../control/channel-runtime.js';
import type { ServerKeys } from '../control/server-secret.js';
import type { Database } from '../db/repository.js';
import type { ApiToken } from '../db/types.js';
import type { RungRef } from '../media/transcode/ladder.js';
import type { RouteAccess } from './auth.js';

/** What every route module gets. */
export interface ApiContext {
  db: Database;
  runtime: ChannelRuntime;
  keys: ServerKeys;
  logger: Logger;
  now: () => number;
  /** The config's transcode.ladders: names a channel's `transcode` may use besides hd, sd, mobile. */
  ladders: Readonly<Record<string, readonly RungRef[]>>;
  /** Wakes the webhook sender after a manual redelivery. */
  onRedeliver?: () => void;
}

export type ApiApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope the route needs ('public': none). Every route must say; the server refuses to start otherwise. */
    access?: RouteAccess;
    /** The statuses besides 2xx, 400, 401, 403 and 429 the route may answer (for the OpenAPI document). */
    errors?: number[];
  }
  interface FastifyRequest {
    /** The authenticated token (null on public routes). */
    apiToken: ApiToken | null;
  }
}
