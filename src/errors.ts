/**
 * One registry of error codes: code, HTTP status and the message a client sees, together,
 * so delivery and (later) the API answer the same mistake the same way.
 */
export const ERRORS = {
  NOT_FOUND: { status: 404, message: 'no such resource' },
  CHANNEL_NOT_FOUND: { status: 404, message: 'no such channel' },
  UPSTREAM_ORIGIN: { status: 502, message: 'the origin this channel is live on does not answer' },
  CHANNEL_NOT_LIVE: { status: 404, message: 'the channel is not live' },
  RENDITION_NOT_FOUND: { status: 404, message: 'no such rendition' },
  EXPIRED: { status: 404, message: 'the resource has left the live window' },
  NOT_HINTED: { status: 404, message: 'the part is neither available nor the next hinted part' },
  GAP: { status: 404, message: 'no media here: the playlist marks it EXT-X-GAP (no input was on air)' },
  BAD_DIRECTIVE: { status: 400, message: 'invalid delivery directive' },
  MSN_TOO_FAR: { status: 400, message: '_HLS_msn is more than two segments ahead of the playlist' },
  PART_TOO_FAR: { status: 400, message: '_HLS_part is beyond the advance part limit' },
  PART_WITHOUT_MSN: { status: 400, message: '_HLS_part requires _HLS_msn' },
  BLOCK_TIMEOUT: { status: 503, message: 'the requested part did not appear in time' },
  BAD_TIME_RANGE: { status: 400, message: 'invalid archive time range' },
  ARCHIVE_DISABLED: { status: 404, message: 'this channel is not archived' },
  ARCHIVE_EMPTY: { status: 404, message: 'the archive holds nothing in this time range' },
  THUMBNAILS_DISABLED: { status: 404, message: 'thumbnails are off for this channel' },
  NO_THUMBNAIL: { status: 404, message: 'no thumbnail yet' },
  RECORDING_IN_PROGRESS: { status: 409, message: 'the recording is still being written' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'range not satisfiable' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  // Playback tokens (docs/playback-tokens.md): 401 when none was given, 403 when the one given does not play.
  TOKEN_REQUIRED: { status: 401, message: 'this channel plays with a playback token (?token=…)' },
  TOKEN_INVALID: { status: 403, message: 'the playback token is not valid' },
  TOKEN_EXPIRED: { status: 403, message: 'the playback token has expired' },
  TOKEN_WRONG_CHANNEL: { status: 403, message: 'the playback token is for another channel' },
  CHANNEL_NOT_STARTED: { status: 403, message: 'the channel has not started: it plays only with a preview token' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class OriginError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ErrorCode, detail?: string) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message);
    this.statusCode = ERRORS[code].status;
  }
}
