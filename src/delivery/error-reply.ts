import { OriginError, type ErrorCode } from '../errors.js';
import type { OriginReply } from './types.js';

/** A JSON error reply from the registry: `{ "error": { "code", "message" } }`. */
export function errorReply(code: ErrorCode, cacheControl: string): OriginReply {
  return replyForError(new OriginError(code), cacheControl);
}

/** The JSON reply for a thrown OriginError (its message carries the detail). */
export function replyForError(err: OriginError, cacheControl: string): OriginReply {
  return {
    status: err.statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': cacheControl },
    body: Buffer.from(JSON.stringify({ error: { code: err.code, message: err.message } })),
  };
}
