import type { Logger } from 'pino';
import type { PublishCheck } from '../../control/publish-authorizer.js';
import { looksLikeJwt, type PublishTokens } from '../../control/publish-tokens.js';
import type { PublishDecision, PublishRequest } from '../rtmp/index.js';
import type { OpusTranscoder } from './opus-transcoder.js';
import { WhipOfferError, WhipSession } from './whip-session.js';

export interface WhipIngestOptions {
  logger: Logger;
  /** Sessions at once on this origin (each holds a peer connection and an audio transcoder). */
  maxSessions: number;
  connectTimeoutMs: number;
  portRange?: [number, number];
  /** The bandwidth a sender is told it may use (REMB), b/s. */
  maxBitrate: number;
  /** How often a keyframe is asked for (WebRTC encoders make one only when asked). */
  keyframeIntervalMsOf: (channelId: string) => number;
  /** A stream key: which channel and input it publishes to (as RTMP's and SRT's). */
  check: (req: Pick<PublishRequest, 'streamKey' | 'remoteAddress'>) => Promise<PublishCheck>;
  /** A publish token's channel, primary input: the allow-list and a free input. */
  checkChannel: (channelId: string, input: string, remoteAddress: string) => PublishCheck;
  admit: (checked: PublishCheck, req: Pick<PublishRequest, 'remoteAddress' | 'disconnect'>) => Promise<PublishDecision>;
  tokens: PublishTokens;
  newTranscoder: (log: Logger, onFrame: (aac: Buffer, asc: Buffer, pts48k: number) => void) => OpusTranscoder;
}

/** Why a WHIP request was refused: an API error code and the reason said. */
export interface WhipRefusal {
  refused: 'PUBLISH_UNAUTHORIZED' | 'PUBLISH_DENIED' | 'CHANNEL_NOT_FOUND' | 'CHANNEL_BUSY' | 'SDP_REFUSED' | 'WHIP_UNAVAILABLE';
  reason: string;
}

export interface WhipPublished {
  sessionId: string;
  answer: string;
}

/**
 * WHIP ingest (RFC 9725): a POST with an SDP offer and a bearer credential (the channel's stream
 * key, or a publish token minted by the API) becomes a publisher of the channel, exactly as an
 * RTMP or SRT one: the same checks (key, allow-list, one publisher per input), the same
 * pipeline. The answer carries every candidate, so no trickle ICE is needed; DELETE of the
 * session's URL ends it.
 */
export class WhipIngest {
  private readonly sessions = new Map<string, { channelId: string; session: WhipSession }>();
  private readonly log: Logger;

  constructor(private readonly o: WhipIngestOptions) {
    this.log = o.logger.child({ component: 'whip' });
  }

  get size(): number {
    return this.sessions.size;
  }

  async publish(req: { channelId: string; bearer: string | undefined; offer: string; remoteAddress: string }): Promise<WhipPublished | WhipRefusal> {
    const log = this.log.child({ channel: req.channelId, remoteAddress: req.remoteAddress });
    const refuse = (refused: WhipRefusal['refused'], reason: string): WhipRefusal => {
      log.warn({ reason }, 'publish refused');
      return { refused, reason };
    };
    if (this.sessions.size >= this.o.maxSessions) return refuse('WHIP_UNAVAILABLE', `${this.o.maxSessions} WHIP sessions already (whip.maxSessions)`);
    const checked = await this.authenticate(req);
    if ('refused' in checked) return refuse(checked.refused, checked.reason);
    if (!checked.accept) {
      const code = /already has a publisher/.test(checked.reason) ? 'CHANNEL_BUSY' : /^no channel/.test(checked.reason) ? 'CHANNEL_NOT_FOUND' : 'PUBLISH_DENIED';
      return refuse(code, checked.reason);
    }
    let session: WhipSession | undefined;
    const decision = await this.o.admit(checked, { remoteAddress: req.remoteAddress, disconnect: (reason) => session?.end(reason) });
    if (!decision.accept) return refuse(/already has a publisher/.test(decision.reason) ? 'CHANNEL_BUSY' : 'PUBLISH_DENIED', decision.reason);
    decision.sink.describePublisher?.('WHIP');
    session = new WhipSession({
      channelId: req.channelId, remoteAddress: req.remoteAddress, log,
      keyframeIntervalMs: this.o.keyframeIntervalMsOf(req.channelId), connectTimeoutMs: this.o.connectTimeoutMs,
      ...(this.o.portRange ? { portRange: this.o.portRange } : {}), maxBitrate: this.o.maxBitrate,
      newTranscoder: (onFrame) => this.o.newTranscoder(log, onFrame),
      onEnd: () => this.sessions.delete(session!.id),
    }, decision.sink);
    this.sessions.set(session.id, { channelId: req.channelId, session });
    try {
      const answer = await session.answer(req.offer);
      log.info({ session: session.id }, 'WHIP publish started');
      return { sessionId: session.id, answer };
    } catch (err) {
      session.end(`the offer was refused: ${(err as Error).message}`);
      if (err instanceof WhipOfferError || /sdp|description|m-line|fingerprint/i.test((err as Error).message)) {
        return refuse('SDP_REFUSED', (err as Error).message);
      }
      throw err;
    }
  }

  /** The publish check of a stream key, or of a publish token naming this channel. */
  private async authenticate(req: { channelId: string; bearer: string | undefined; remoteAddress: string }): Promise<PublishCheck | WhipRefusal> {
    if (!req.bearer) return { refused: 'PUBLISH_UNAUTHORIZED', reason: 'no bearer credential' };
    if (looksLikeJwt(req.bearer)) {
      const t = await this.o.tokens.verify(req.bearer, req.channelId);
      if (!t.ok) return { refused: t.code === 'TOKEN_WRONG_CHANNEL' ? 'PUBLISH_DENIED' : 'PUBLISH_UNAUTHORIZED', reason: `publish token: ${t.code}` };
      return this.o.checkChannel(req.channelId, 'primary', req.remoteAddress);
    }
    const checked = await this.o.check({ streamKey: req.bearer, remoteAddress: req.remoteAddress });
    if (!checked.accept) return checked.reason === 'unknown stream key' ? { refused: 'PUBLISH_UNAUTHORIZED', reason: checked.reason } : checked;
    if (checked.channel.id !== req.channelId) return { refused: 'PUBLISH_DENIED', reason: `the stream key is not channel ${req.channelId}'s` };
    return checked;
  }

  /** DELETE of a session's URL; false when there is no such session of this channel. */
  end(channelId: string, sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || s.channelId !== channelId) return false;
    s.session.end('the publisher ended the WHIP session');
    return true;
  }

  close(): void {
    for (const { session } of [...this.sessions.values()]) session.end('server closing');
    this.sessions.clear();
  }
}
