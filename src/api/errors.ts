import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ControlError } from '../control/channel-runtime.js';
import { ForeignKeyViolationError, InvalidCursorError, UniqueViolationError } from '../db/errors.js';
import { ERRORS, OriginError } from '../errors.js';

/**
 * The API's error codes: code, HTTP status and default message together (as src/errors.ts
 * does for delivery, whose codes the API shares where the mistake is the same). Every error
 * answer is `{ "error": { "code", "message", "details"? } }`.
 */
export const API_ERRORS = {
  NOT_FOUND: ERRORS.NOT_FOUND,
  CHANNEL_NOT_FOUND: ERRORS.CHANNEL_NOT_FOUND,
  STREAM_KEY_NOT_FOUND: { status: 404, message: 'no such stream key' },
  RECORDING_NOT_FOUND: { status: 404, message: 'no such recording' },
  API_TOKEN_NOT_FOUND: { status: 404, message: 'no such API token' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'no such webhook endpoint' },
  EVENT_NOT_FOUND: { status: 404, message: 'no such event' },
  ALERT_NOT_FOUND: { status: 404, message: 'no such alert' },
  RESTREAM_TARGET_NOT_FOUND: { status: 404, message: 'no such restream target' },
  ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  VALIDATION_FAILED: { status: 400, message: 'the request is not valid' },
  INVALID_JSON: { status: 400, message: 'the body is not valid JSON' },
  INVALID_CURSOR: { status: 400, message: 'invalid page cursor' },
  BAD_REQUEST: { status: 400, message: 'bad request' },
  UNAUTHORIZED: { status: 401, message: 'a valid API token is required (Authorization: Bearer <token>)' },
  FORBIDDEN: { status: 403, message: 'the API token lacks the scope this route needs' },
  CHANNEL_ID_TAKEN: { status: 409, message: 'a channel with this id exists' },
  CONFIG_CHANNEL_READ_ONLY: { status: 409, message: 'this channel is defined in the config file: change it there' },
  STREAM_KEY_REVOKED: { status: 409, message: 'the stream key is revoked' },
  CONFIG_TOKEN_READ_ONLY: { status: 409, message: 'this API token comes from the config (api.adminToken): change it there' },
  LAST_ADMIN_TOKEN: { status: 409, message: 'the last active admin token cannot be revoked' },
  CONFLICT: { status: 409, message: 'the request conflicts with the current state' },
  BODY_TOO_LARGE: { status: 413, message: 'the body is too large' },
  PRECONDITION_FAILED: { status: 412, message: 'a precondition (If-Match, If-Unmodified-Since) does not hold' },
  RANGE_NOT_SATISFIABLE: ERRORS.RANGE_NOT_SATISFIABLE,
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the body must be application/json' },
  TOO_MANY_FAILED_AUTH: { status: 429, message: 'too many failed authentications from this address' },
  SESSION_UNKNOWN: { status: 403, message: 'not a session id the origin minted for this channel' },
  TOKEN_INVALID: ERRORS.TOKEN_INVALID,
  TOKEN_EXPIRED: ERRORS.TOKEN_EXPIRED,
  TOKEN_WRONG_CHANNEL: ERRORS.TOKEN_WRONG_CHANNEL,
  BEACON_RATE_LIMITED: { status: 429, message: 'too many beacons from this session: retry after Retry-After seconds' },
  TOO_MANY_BAD_BEACONS: { status: 429, message: 'too many refused beacons from this address' },
  PUBLISH_UNAUTHORIZED: { status: 401, message: 'a stream key or publish token is required (Authorization: Bearer <key or token>)' },
  PUBLISH_DENIED: { status: 403, message: 'this key or token may not publish to this channel' },
  CHANNEL_BUSY: { status: 409, message: 'the channel already has a publisher on this input' },
  WHIP_SESSION_NOT_FOUND: { status: 404, message: 'no such WHIP session' },
  SDP_REFUSED: { status: 400, message: 'the SDP offer cannot be answered: this origin takes H.264 video and Opus audio' },
  UNSUPPORTED_SDP_TYPE: { status: 415, message: 'the body must be an SDP offer (application/sdp)' },
  TRICKLE_NOT_SUPPORTED: { status: 405, message: 'trickle ICE and ICE restarts are not supported: the answer lists every candidate' },
  WHIP_UNAVAILABLE: { status: 503, message: 'WHIP ingest is busy (whip.maxSessions) or off' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ErrorDetail {
  /** Where: `body.ipAllowList.0`, `query.from`, `params.id`. */
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ApiErrorCode, message?: string, readonly details?: ErrorDetail[],
    /** Extra response headers (WWW-Authenticate, Retry-After). */
    readonly headers: Record<string, string> = {}) {
    super(message ?? API_ERRORS[code].message);
    this.status = API_ERRORS[code].status;
  }
}

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, machine-readable: VALIDATION_FAILED, UNAUTHORIZED, CHANNEL_NOT_FOUND, …'),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
}).describe('An error');

export interface ErrorReply {
  status: number;
  body: z.infer<typeof errorBodySchema>;
  headers: Record<string, string>;
}

const reply = (status: number, code: string, message: string, details?: ErrorDetail[], headers: Record<string, string> = {}): ErrorReply =>
  ({ status, body: { error: details ? { code, message, details } : { code, message } }, headers });

const fromCode = (code: ApiErrorCode, message?: string): ErrorReply => reply(API_ERRORS[code].status, code, message ?? API_ERRORS[code].message);

/** Fastify's own 4xx errors (the body parser's), by their code. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
};

/**
 * Any error thrown while answering, as the JSON error answer; undefined status means a bug
 * (500, logged with its stack, which never goes out).
 */
export function errorReply(err: unknown): ErrorReply & { internal: boolean } {
  const done = (r: ErrorReply, internal = false) => ({ ...r, internal });
  if (err instanceof ApiError) return done(reply(err.status, err.code, err.message, err.details, err.headers));
  if (err instanceof ControlError) return done(reply(err.status, err.code, err.message));
  if (err instanceof OriginError) return done(reply(err.statusCode, err.code, err.message));
  if (err instanceof InvalidCursorError) return done(fromCode('INVALID_CURSOR'));
  if (err instanceof UniqueViolationError || err instanceof ForeignKeyViolationError) return done(fromCode('CONFLICT'));
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as FastifyError).validationContext ?? 'request';
    const details = err.validation.map((v) => {
      const path = v.params.issue.path;
      return { path: [where, ...path].join('.'), message: v.message };
    });
    return done(reply(400, 'VALIDATION_FAILED', `invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details));
  }
  const fe = err as Partial<FastifyError>;
  const known = fe.code !== undefined ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return done(fromCode(known));
  // Other client errors Fastify raises (a bad Content-Length, …) carry safe messages.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return done(reply(fe.statusCode, 'BAD_REQUEST', fe.message ?? API_ERRORS.BAD_REQUEST.message));
  }
  return done(fromCode('INTERNAL'), true);
}
