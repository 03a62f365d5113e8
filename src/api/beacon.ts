import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { MAX_TOKEN_LENGTH } from '../delivery/access/playback-tokens.js';
import { SID_LENGTH } from '../analytics/session-key.js';
import type { BeaconIntake, BeaconRefusal } from './beacon-intake.js';
import type { ApiApp } from './context.js';
import { API_ERRORS, ApiError } from './errors.js';

/**
 * POST /v1/beacon: what a player reports of its viewing (play, a heartbeat every 10 s, pause,
 * end), for the viewer analytics when a CDN hides the viewers from the origin. Public: players
 * have no API token; the beacon proves its session by the sid the multivariant playlist minted
 * or by the playback token (BeaconIntake). Players post from other origins, with
 * navigator.sendBeacon: text/plain (a string) or application/json (a Blob) are both JSON here,
 * CORS allows any origin, and the preflight of an application/json post is answered.
 */

/** A beacon is a few fields; a token is the biggest of them. sendBeacon payloads are small anyway. */
export const BEACON_BODY_LIMIT = 2048;

const CORS = { 'access-control-allow-origin': '*' };
const PREFLIGHT = {
  ...CORS,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type',
  'access-control-max-age': '86400',
};

export const beaconBody = z.object({
  sid: z.string().min(1).max(SID_LENGTH * 2).optional().describe('The session id: the `sid` argument of the media playlist URL the player loads'),
  token: z.string().min(1).max(MAX_TOKEN_LENGTH).optional().describe('The playback token (`token` argument) of a channel that requires one; its jti, when it has one, names the session'),
  channel: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a channel id').describe('The channel watched'),
  event: z.enum(['play', 'heartbeat', 'pause', 'end']).describe('play: the first frame; heartbeat: every 10 s while the page is open; pause; end: the viewer left'),
  mode: z.enum(['live', 'dvr', 'catchup']).optional().describe('live: at the live edge; dvr: behind it in the live playlist; catchup: an archive range'),
  positionSec: z.number().min(0).max(1e10).optional().describe('The playhead, seconds (the media element\'s currentTime)'),
  latencyMs: z.number().min(0).max(86_400_000).optional().describe('Playhead to live edge (hls.js `latency`), ms'),
  rebufferMs: z.number().min(0).max(86_400_000).optional().describe('Time spent rebuffering since the previous beacon, ms'),
  rendition: z.string().min(1).max(64).optional().describe('The rendition playing (its name, or its height as "720p")'),
}).refine((b) => b.sid !== undefined || b.token !== undefined, { message: 'give sid, token or both', path: ['sid'] })
  .describe('A player beacon; unknown fields are ignored (a newer player may send more)');

export function beaconRoutes(app: ApiApp, intake: BeaconIntake): void {
  // Its own scope: the text/plain parser and the CORS headers are for this route only.
  app.register(async (scoped) => {
    const json = scoped.getDefaultJsonParser('error', 'error');
    // sendBeacon with a string sends text/plain: parsed as JSON, with the same guards as application/json.
    scoped.addContentTypeParser('text/plain', { parseAs: 'string' }, (req, body, done) => json(req, body as string, done));
    // Before anything can fail, so error answers carry it too: a browser shows the player no answer without it.
    scoped.addHook('onRequest', async (_req, reply) => { reply.headers(CORS); });
    const tags = ['analytics'];
    // A beacon every 10 s from every viewer: a line each would drown the request log.
    const logLevel = 'warn';

    scoped.withTypeProvider<ZodTypeProvider>().post('/v1/beacon', {
      schema: {
        tags, summary: 'A player beacon (no API token: the sid or playback token proves the session); CORS, text/plain or application/json',
        body: beaconBody, response: { 204: z.void().describe('Counted') },
      },
      config: { access: 'public', errors: [403, 404, 429] },
      bodyLimit: BEACON_BODY_LIMIT,
      logLevel,
    }, async (req, reply) => {
      const refused = await intake.accept(req.body, req.ip);
      if (refused) throw refusal(refused);
      return reply.code(204).send();
    });

    scoped.options('/v1/beacon', {
      schema: { tags, summary: 'CORS preflight of a beacon posted as application/json', response: { 204: z.void().describe('Allowed') } },
      config: { access: 'public' },
      logLevel,
    }, async (_req, reply) => reply.code(204).headers(PREFLIGHT).send());
  });
}

/** The API error of a refused beacon; the field at fault is named, as for a body the schema refused. */
function refusal(r: BeaconRefusal): ApiError {
  switch (r.code) {
    case 'CHANNEL_NOT_FOUND': return new ApiError('CHANNEL_NOT_FOUND', 'the origin serves no such channel');
    case 'SESSION_UNKNOWN':
      return new ApiError('SESSION_UNKNOWN', undefined, [{ path: 'body.sid', message: API_ERRORS.SESSION_UNKNOWN.message }]);
    case 'TOKEN_INVALID': case 'TOKEN_EXPIRED': case 'TOKEN_WRONG_CHANNEL':
      return new ApiError(r.code, undefined, [{ path: 'body.token', message: API_ERRORS[r.code].message }]);
    case 'BEACON_RATE_LIMITED': case 'TOO_MANY_BAD_BEACONS':
      return new ApiError(r.code, undefined, undefined, { 'retry-after': String(r.retryAfterSec) });
  }
}
