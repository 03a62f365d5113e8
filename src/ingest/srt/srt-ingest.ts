import type { Logger } from 'pino';
import { SRT_REJECT, SrtListener, type SrtEvent } from '../../addon/srt-listener.js';
import type { PublishCheck } from '../../control/publish-authorizer.js';
import type { PublishDecision, PublishRequest } from '../rtmp/index.js';
import type { PublicationSink } from '../../media/types.js';
import type { TransportStats } from '../ingest-snapshot.js';
import { EsToAccessUnits } from '../codecs/elementary-streams.js';
import { parseStreamId } from './stream-id.js';

export interface SrtIngestOptions {
  host: string;
  port: number;
  latencyMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  logger: Logger;
  /** Whether the key may publish, without connecting (during the caller's handshake). */
  check: (req: Pick<PublishRequest, 'streamKey' | 'remoteAddress'>) => Promise<PublishCheck>;
  /** Connects an accepted publisher to its channel (as RTMP's onPublish). */
  decide: (req: PublishRequest) => Promise<PublishDecision>;
  /** The passphrase of a channel's SRT publishers; undefined: unencrypted. */
  passphraseOf: (channelId: string) => string | undefined;
}

/** Packets held while the publish decision is made (a database lookup for an API key). */
const MAX_HELD_PACKETS = 2000;
const ACCEPTS = 'this origin accepts H.264 video and AAC audio in MPEG-TS';

interface Session {
  conn: number;
  remoteAddress: string;
  log: Logger;
  sink?: PublicationSink;
  held: Extract<SrtEvent, { kind: 'packet' }>[];
  streams?: Map<number, 'video' | 'audio'>;
  converter?: EsToAccessUnits;
  badPackets: number;
  ended: boolean;
}

/** The host part of "host:port" (IPv6 too), as allow-lists and logs name a publisher. */
function hostOf(address: string): string {
  const cut = address.lastIndexOf(':');
  return cut > 0 ? address.slice(0, cut) : address;
}

/**
 * SRT ingest: the addon's listener (libsrt, MPEG-TS demuxed by libavformat on its own threads)
 * and, per caller, the same decisions and channel pipeline as RTMP. The streamid names the key;
 * during the handshake the key is checked and the channel's passphrase set, so a wrong key or
 * passphrase never opens a connection; once open, the publisher is connected to its channel
 * and its elementary streams become the channel's tracks and frames. Refusals are logged with
 * their reason and the caller sees an SRT rejection code.
 */
export class SrtIngest {
  private listener: SrtListener | undefined;
  private readonly sessions = new Map<number, Session>();
  private readonly log: Logger;
  private port = 0;

  constructor(private readonly o: SrtIngestOptions) {
    this.log = o.logger.child({ component: 'srt' });
  }

  start(): number {
    const o = this.o;
    this.listener = new SrtListener({ host: o.host, port: o.port, latencyMs: o.latencyMs, maxConnections: o.maxConnections, idleTimeoutMs: o.idleTimeoutMs },
      (e) => this.onEvent(e));
    this.port = this.listener.start();
    this.log.info({ port: this.port, host: o.host, latencyMs: o.latencyMs }, 'listening');
    return this.port;
  }

  address(): number {
    return this.port;
  }

  close(): void {
    this.listener?.close();
    for (const s of this.sessions.values()) this.end(s, 'server closing');
    this.sessions.clear();
  }

  private onEvent(e: SrtEvent): void {
    try {
      switch (e.kind) {
        case 'request': void this.onRequest(e); break;
        case 'open': void this.onOpen(e); break;
        case 'streams': this.onStreams(e); break;
        case 'packet': this.onPacket(e); break;
        case 'closed': this.onClosed(e); break;
      }
    } catch (err) {
      // Nothing a publisher sends may throw into the listener's event loop.
      this.log.error({ err, conn: e.conn }, 'SRT event failed');
    }
  }

  private async onRequest(e: Extract<SrtEvent, { kind: 'request' }>): Promise<void> {
    const remoteAddress = hostOf(e.remoteAddress);
    const refuse = (reason: string, rejectCode: number, channelId?: string) => {
      this.log.warn({ remoteAddress: e.remoteAddress, reason, ...(channelId ? { channel: channelId } : {}) }, 'publish refused');
      this.listener?.answer(e.conn, { accept: false, rejectCode });
    };
    const id = parseStreamId(e.streamId);
    if (!id.ok) return refuse(id.reason, id.badMode ? SRT_REJECT.badMode : SRT_REJECT.badRequest);
    let checked: PublishCheck;
    try {
      checked = await this.o.check({ streamKey: id.streamKey, remoteAddress });
    } catch (err) {
      this.log.error({ err }, 'cannot check an SRT publisher\'s key');
      return refuse('the key cannot be checked now', SRT_REJECT.overload);
    }
    if (!checked.accept) {
      const code = /already has a publisher/.test(checked.reason) ? SRT_REJECT.conflict
        : checked.code === 'NetStream.Publish.Denied' ? SRT_REJECT.forbidden : SRT_REJECT.unauthorized;
      return refuse(checked.reason, code, checked.channelId);
    }
    const passphrase = this.o.passphraseOf(checked.channel.id);
    this.listener?.answer(e.conn, { accept: true, ...(passphrase ? { passphrase } : {}) });
  }

  private async onOpen(e: Extract<SrtEvent, { kind: 'open' }>): Promise<void> {
    const remoteAddress = hostOf(e.remoteAddress);
    const session: Session = { conn: e.conn, remoteAddress, log: this.log.child({ remoteAddress: e.remoteAddress }), held: [], badPackets: 0, ended: false };
    this.sessions.set(e.conn, session);
    const id = parseStreamId(e.streamId);
    if (!id.ok) return this.refuse(session, id.reason);
    const decision = await this.o.decide({
      app: 'live', streamKey: id.streamKey, remoteAddress,
      disconnect: (reason) => {
        session.log.info({ reason }, 'closing connection');
        this.listener?.closeConnection(e.conn);
      },
    }).catch((err: Error): PublishDecision => ({ accept: false, reason: `cannot decide: ${err.message}` }));
    if (session.ended) {
      if (decision.accept) decision.sink.close('the publisher left during its acceptance');
      return;
    }
    if (!decision.accept) return this.refuse(session, decision.reason, decision.channelId);
    session.log = session.log.child({ channel: decision.channelId });
    session.sink = decision.sink;
    decision.sink.describePublisher?.('SRT');
    decision.sink.transport = () => this.transportOf(e.conn);
    session.log.info({ latencyMs: this.o.latencyMs }, 'SRT publish started');
    for (const p of session.held.splice(0)) this.onPacket(p);
  }

  private onStreams(e: Extract<SrtEvent, { kind: 'streams' }>): void {
    const s = this.sessions.get(e.conn);
    if (!s || s.ended) return;
    const streams = new Map<number, 'video' | 'audio'>();
    for (const st of e.streams) {
      if (st.type === 'other') continue;
      const supported = st.type === 'video' ? st.codec === 'h264' : st.codec === 'aac';
      if (!supported) return this.refuse(s, `unsupported ${st.type} codec ${st.codec}; ${ACCEPTS}`);
      streams.set(st.index, st.type);
    }
    if (streams.size === 0) return this.refuse(s, `no audio or video stream; ${ACCEPTS}`);
    s.streams = streams;
    const kinds = [...streams.values()];
    s.converter = new EsToAccessUnits({
      expect: { video: kinds.includes('video'), audio: kinds.includes('audio') },
      setTracks: (tracks) => {
        s.log.info({ tracks: tracks.map((t) => (t.kind === 'video' ? { kind: t.kind, width: t.width, height: t.height } : { kind: t.kind, sampleRate: t.sampleRate, channels: t.channels })) }, 'tracks');
        s.sink?.setTracks(tracks);
      },
      write: (au) => s.sink?.write(au),
    });
  }

  private onPacket(p: Extract<SrtEvent, { kind: 'packet' }>): void {
    const s = this.sessions.get(p.conn);
    if (!s || s.ended) return;
    if (!s.sink || !s.converter) {
      if (s.held.length < MAX_HELD_PACKETS) s.held.push(p);
      return;
    }
    const kind = s.streams?.get(p.stream);
    if (!kind) return;
    try {
      s.converter.push({ kind, pts: p.pts, dts: p.dts, keyframe: p.keyframe, data: p.data });
    } catch (err) {
      s.badPackets++;
      s.sink.dropped?.();
      // One line for the first and then every 1000th: a broken encoder must not flood the log.
      if (s.badPackets === 1 || s.badPackets % 1000 === 0) s.log.warn({ reason: (err as Error).message, badPackets: s.badPackets }, 'SRT packet dropped');
    }
  }

  private onClosed(e: Extract<SrtEvent, { kind: 'closed' }>): void {
    const s = this.sessions.get(e.conn);
    if (!s) return;
    this.sessions.delete(e.conn);
    if (!s.ended) s.log.info({ reason: e.reason }, 'SRT publisher left');
    this.end(s, e.reason);
  }

  private refuse(s: Session, reason: string, channelId?: string): void {
    s.log.warn({ reason, ...(channelId ? { channel: channelId } : {}) }, 'publish refused');
    this.end(s, reason);
    this.listener?.closeConnection(s.conn);
  }

  private end(s: Session, reason: string): void {
    if (s.ended) return;
    s.ended = true;
    s.held = [];
    s.sink?.close(reason);
  }

  private transportOf(conn: number): TransportStats | undefined {
    const st = this.listener?.stats(conn);
    return st && {
      protocol: 'srt', rttMs: st.rttMs, receiveRateKbps: Math.round(st.receiveRateMbps * 1000), packetsReceived: st.packetsReceived,
      packetsLost: st.packetsLost, packetsRetransmitted: st.packetsRetransmitted, packetsDropped: st.packetsDropped, latencyMs: st.latencyMs,
    };
  }
}
