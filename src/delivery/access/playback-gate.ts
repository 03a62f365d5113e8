import type { Logger } from 'pino';
import type { ErrorCode } from '../../errors.js';
import { errorReply } from '../error-reply.js';
import { cachePolicy } from '../cache-policy.js';
import type { OriginReply, OriginRequest } from '../types.js';
import type { PlaybackTokens, TokenCheck } from './playback-tokens.js';
import type { ChannelAccess } from '../../media/channel-registry.js';

/** What a channel asks of its viewers right now: tokens (`playbackTokens: required`), preview tokens (session in preview). */
export type { ChannelAccess };

const LIVE_PREFIX = '/live/';

/**
 * The playback token of a request: the `token` query parameter (what players carry from URL to
 * URL), else an `Authorization: Bearer` header (non-browser clients talking to the origin directly).
 */
export function requestToken(req: OriginRequest): string | undefined {
  const q = req.query;
  if (q !== '') {
    for (let start = 0; start <= q.length;) {
      let end = q.indexOf('&', start);
      if (end < 0) end = q.length;
      if (q.startsWith('token=', start)) {
        const raw = q.slice(start + 6, end);
        // JWTs are URL-safe; a client may still have percent-encoded one.
        if (!raw.includes('%')) return raw;
        try { return decodeURIComponent(raw); } catch { return raw; }
      }
      start = end + 1;
    }
  }
  const auth = req.header('authorization');
  const m = auth === undefined ? null : /^Bearer[ \t]+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : undefined;
}

/**
 * Checks a /live/<channel>/… request against its channel's access rules, before any work is
 * done for it (a blocking playlist request with a bad token is refused at once, not after the
 * wait). Refusals are JSON errors that no cache keeps (`no-store`): a token minted a second
 * later must not meet a cached 401.
 */
export class PlaybackGate {
  private warnedNoKey = false;

  constructor(
    private readonly accessOf: (channelId: string) => ChannelAccess | undefined,
    private readonly tokensOf: () => PlaybackTokens | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * undefined: go on (not a channel route; a channel with no rules now, whose requests' tokens
   * are then not even read; or a token verified before, checked synchronously); a reply: the
   * refusal; a promise: a token seen for the first time is being verified.
   */
  check(req: OriginRequest): OriginReply | Promise<OriginReply | undefined> | undefined {
    if (!req.path.startsWith(LIVE_PREFIX)) return undefined;
    const end = req.path.indexOf('/', LIVE_PREFIX.length);
    if (end < 0) return undefined;
    const channelId = req.path.slice(LIVE_PREFIX.length, end);
    const access = this.accessOf(channelId);
    if (!access || (!access.tokenRequired && !access.preview)) return undefined;
    const token = requestToken(req);
    if (token === undefined || token === '') return refuse(access.tokenRequired ? 'TOKEN_REQUIRED' : 'CHANNEL_NOT_STARTED');
    const tokens = this.tokensOf();
    if (!tokens) return this.noKey(channelId);
    const known = tokens.known(token, channelId);
    if (known) return this.decide(known, access);
    return tokens.verify(token, channelId).then((r) => this.decide(r, access));
  }

  private decide(r: TokenCheck, access: ChannelAccess): OriginReply | undefined {
    if (!r.ok) return refuse(r.code);
    return access.preview && !r.preview ? refuse('CHANNEL_NOT_STARTED') : undefined;
  }

  /** Fail closed: a channel asks for tokens but this handler was given no key to check them. */
  private noKey(channelId: string): OriginReply {
    if (!this.warnedNoKey) {
      this.warnedNoKey = true;
      this.log.error({ channel: channelId }, 'a channel requires playback tokens but the delivery has no token key: every token is refused');
    }
    return refuse('TOKEN_INVALID');
  }
}

function refuse(code: ErrorCode): OriginReply {
  const r = errorReply(code, cachePolicy.noStore);
  if (r.status === 401) r.headers['www-authenticate'] = 'Bearer realm="sigma-live"';
  return r;
}
