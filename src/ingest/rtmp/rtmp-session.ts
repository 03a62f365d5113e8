import type { Logger } from 'pino';
import type { AccessUnit, AudioTrackInfo, PublicationSink, TrackInfo, VideoTrackInfo } from '../../media/types.js';
import { decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.js';
import { ChunkStreamParser, ChunkWriter, MSG_ABORT, MSG_SET_CHUNK_SIZE, type RtmpMessage } from './chunk-stream.js';
import { RtmpProtocolError } from './errors.js';
import { AUDIO_TRACK_ID, parseAudioTag, parseVideoTag, VIDEO_TRACK_ID } from './flv.js';
import { ServerHandshake } from './handshake.js';
import type { AacConfig } from '../codecs/aac.js';
import type { SpsInfo } from '../codecs/sps.js';

/** The only application this origin serves: rtmp://HOST:1935/live/<streamKey>. */
export const RTMP_APP = 'live';

/** What a publisher asked for; the stream key is secret and must never be logged in clear. */
export interface PublishRequest {
  app: string;
  streamKey: string;
  remoteAddress: string;
  /** Ends this publisher's connection (an operator's stop, a deleted channel). */
  disconnect: (reason: string) => void;
}

/**
 * The answer to a publish request. A refusal's `code` picks the onStatus code the encoder
 * shows (default NetStream.Publish.BadName, the code OBS and ffmpeg report as a wrong key).
 */
export type PublishDecision =
  | { accept: true; channelId: string; sink: PublicationSink }
  | { accept: false; reason: string; code?: 'NetStream.Publish.BadName' | 'NetStream.Publish.Denied'; /** When the key named one. */ channelId?: string };

/** What a publisher may send before its publish is answered (media it sends too early, metadata). */
const MAX_HELD_BYTES = 8 * 1024 * 1024;

interface Held {
  messages: RtmpMessage[];
  bytes: number;
}

/** Message type ids (RTMP spec 5.4, 6.2, 7.1). */
export const MSG = {
  setChunkSize: MSG_SET_CHUNK_SIZE, abort: MSG_ABORT, acknowledgement: 3, userControl: 4,
  windowAckSize: 5, setPeerBandwidth: 6, audio: 8, video: 9, dataAmf3: 15, commandAmf3: 17,
  dataAmf0: 18, commandAmf0: 20, aggregate: 22,
} as const;

/** User Control event types (RTMP spec 7.1.7). */
const UC_STREAM_BEGIN = 0;
const UC_PING_REQUEST = 6;
const UC_PING_RESPONSE = 7;

/** Chunk stream ids we send on: protocol control, NetConnection commands, NetStream commands. */
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;
const CSID_STREAM = 5;

/** What we announce in connect's reply. 4096 matches what OBS and ffmpeg use for their own sends. */
export const OUT_CHUNK_SIZE = 4096;
export const WINDOW_ACK_SIZE = 2_500_000;

/**
 * Frames held while waiting for a sequence header that onMetaData promised. Past these bounds
 * the tracks are declared with what arrived, so a lying encoder cannot stall the channel.
 */
const MAX_PENDING_FRAMES = 300;
const MAX_PENDING_SPAN_MS = 2000;
/** Hot-path problems are logged at most this often, with a count. */
const LOG_INTERVAL_MS = 10_000;

export interface RtmpSessionOptions {
  logger: Logger;
  remoteAddress: string;
  /** May answer later (a database lookup): messages that arrive meanwhile wait, in order. */
  onPublish: (req: PublishRequest) => PublishDecision | Promise<PublishDecision>;
  /** Writes bytes to the peer. */
  send: (data: Buffer) => void;
  /** Closes the connection after what was sent has been flushed. Called at most once. */
  end: (reason: string) => void;
  maxMessageLength?: number;
  now?: () => number;
}

interface Metadata {
  frameRate: number;
  width: number;
  height: number;
  expectVideo: boolean;
  expectAudio: boolean;
}

type State = 'handshake' | 'handshaken' | 'connected' | 'publishing' | 'closed';

/**
 * One RTMP connection's state machine, socket-free: bytes in through receive(), bytes out
 * through `send`, termination through `end`. Handshake → connect → (releaseStream, FCPublish)
 * → createStream → publish → media → FCUnpublish/deleteStream. Anything malformed ends this
 * connection with a log line; receive() never throws.
 */
export class RtmpSession {
  private state: State = 'handshake';
  private readonly handshake = new ServerHandshake();
  private readonly parser: ChunkStreamParser;
  private readonly writer = new ChunkWriter();
  private log: Logger;
  private readonly now: () => number;

  private bytesReceived = 0;
  private lastAckAt = 0;
  private peerWindow = 0;
  private nextStreamId = 1;

  private sink: PublicationSink | null = null;
  /** Set while a publish decision is pending: what arrives meanwhile. */
  private held: Held | null = null;
  private channelId: string | null = null;
  private publishStreamId = 0;
  private metadata: Metadata | null = null;
  private video: { codecConfig: Buffer; sps: SpsInfo } | null = null;
  private audio: { codecConfig: Buffer; aac: AacConfig } | null = null;
  private tracks: TrackInfo[] | null = null;
  private pending: AccessUnit[] = [];
  private dropped = 0;
  private lastDropReason = '';
  private lastDropLogAt = -Infinity;
  private framesWritten = 0;
  /** What the publisher calls itself in connect (flashVer), until onMetaData names its encoder. */
  private software: string | null = null;

  constructor(private readonly opts: RtmpSessionOptions) {
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.parser = new ChunkStreamParser({ maxMessageLength: opts.maxMessageLength });
  }

  /** True while a publication is open (its sink not closed yet). */
  get publishing(): boolean {
    return this.state === 'publishing';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Feeds bytes from the socket. Never throws: errors end the connection. */
  receive(data: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.bytesReceived += data.length;
      if (this.state === 'handshake') {
        const step = this.handshake.feed(data);
        if (step.out) this.opts.send(step.out);
        if (!step.done) return;
        this.state = 'handshaken';
        data = step.rest;
        if (data.length === 0) return;
      }
      for (const msg of this.parser.push(data)) {
        if (this.held) this.hold(msg);
        else this.handle(msg);
        if ((this.state as State) === 'closed') return;
      }
      this.maybeAcknowledge();
    } catch (err) {
      this.failOn(err);
    }
  }

  /** A message that came while a publish decision is pending: kept, in order, up to a bound. */
  private hold(msg: RtmpMessage): void {
    const held = this.held!;
    held.bytes += msg.payload.length;
    if (held.bytes > MAX_HELD_BYTES) throw new RtmpProtocolError('command', `more than ${MAX_HELD_BYTES} bytes sent before the publish was answered`);
    held.messages.push(msg);
  }

  /** Handles what was held during a publish decision, stopping if another decision begins. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = null;
    if (!held) return;
    try {
      for (let i = 0; i < held.messages.length; i++) {
        if ((this.state as State) === 'closed') return;
        if (this.held) {
          (this.held as Held).messages.push(...held.messages.slice(i));
          return;
        }
        this.handle(held.messages[i]);
      }
    } catch (err) {
      this.failOn(err);
    }
  }

  private failOn(err: unknown): void {
    if (err instanceof RtmpProtocolError) {
      this.log.warn({ kind: err.kind, reason: err.reason }, 'closing connection: protocol error');
      this.fail(`protocol error: ${err.message}`);
    } else {
      this.log.error({ err }, 'closing connection: internal error');
      this.fail(`internal error: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /**
   * The connection is gone or being torn down (socket closed, idle timeout, server closing):
   * closes the publication with `reason`. Idempotent; does not call `end`.
   */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.endPublication(reason);
    this.state = 'closed';
  }

  /** Ends the publication (if any), then the connection. */
  private fail(reason: string): void {
    if (this.state === 'closed') return;
    this.endPublication(reason);
    this.state = 'closed';
    this.opts.end(reason);
  }

  private endPublication(reason: string): void {
    const sink = this.sink;
    if (!sink) return;
    this.sink = null;
    this.state = this.state === 'publishing' ? 'connected' : this.state;
    this.flushDropLog(true);
    this.log.info({ reason, frames: this.framesWritten }, 'publish ended');
    try {
      sink.close(reason);
    } catch (err) {
      this.log.error({ err }, 'sink.close threw');
    }
  }

  // ---------------------------------------------------------------- output

  private sendMessage(csid: number, type: number, streamId: number, payload: Buffer): void {
    this.opts.send(this.writer.write({ csid, type, streamId, timestamp: 0, payload }));
  }

  private sendCommand(streamId: number, ...values: Amf0Value[]): void {
    this.sendMessage(streamId === 0 ? CSID_COMMAND : CSID_STREAM, MSG.commandAmf0, streamId, encodeAmf0(...values));
  }

  private sendStatus(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    this.sendCommand(streamId, 'onStatus', 0, null, { level, code, description });
  }

  private sendUserControl(event: number, value: number): void {
    const b = Buffer.alloc(6);
    b.writeUInt16BE(event, 0);
    b.writeUInt32BE(value >>> 0, 2);
    this.sendMessage(CSID_CONTROL, MSG.userControl, 0, b);
  }

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0, 0);
    return b;
  }

  /** Acknowledgement each time the peer's window of bytes has been received (RTMP spec 5.4.3). */
  private maybeAcknowledge(): void {
    if (this.peerWindow > 0 && this.bytesReceived - this.lastAckAt >= this.peerWindow) {
      this.lastAckAt = this.bytesReceived;
      this.sendMessage(CSID_CONTROL, MSG.acknowledgement, 0, this.u32(this.bytesReceived % 0x1_0000_0000));
    }
  }

  // ---------------------------------------------------------------- input

  private handle(msg: RtmpMessage): void {
    switch (msg.type) {
      case MSG.setChunkSize:
      case MSG.abort:
      case MSG.acknowledgement:
      case MSG.setPeerBandwidth:
        return; // chunk-level effects are applied by the parser; the rest need no answer
      case MSG.windowAckSize:
        if (msg.payload.length >= 4) this.peerWindow = msg.payload.readUInt32BE(0);
        return;
      case MSG.userControl:
        return this.onUserControl(msg.payload);
      case MSG.commandAmf0:
        return this.onCommand(msg, decodeAmf0(msg.payload));
      case MSG.commandAmf3:
        // AMF3 command messages start with a 0 byte, then AMF0 values (Flash quirk).
        return this.onCommand(msg, decodeAmf0(msg.payload.subarray(1)));
      case MSG.dataAmf0:
        return this.onData(decodeAmf0(msg.payload));
      case MSG.dataAmf3:
        return this.onData(decodeAmf0(msg.payload.subarray(1)));
      case MSG.audio:
      case MSG.video:
        return this.onMedia(msg);
      default:
        this.log.debug({ type: msg.type }, 'ignoring message type');
    }
  }

  private onUserControl(p: Buffer): void {
    if (p.length < 2) return;
    if (p.readUInt16BE(0) === UC_PING_REQUEST && p.length >= 6) {
      const b = Buffer.alloc(6);
      b.writeUInt16BE(UC_PING_RESPONSE, 0);
      p.copy(b, 2, 2, 6);
      this.sendMessage(CSID_CONTROL, MSG.userControl, 0, b);
    }
  }

  private onCommand(msg: RtmpMessage, values: Amf0Value[]): void {
    const [name, txn] = values;
    if (typeof name !== 'string') throw new RtmpProtocolError('command', 'command message without a name');
    const txnId = typeof txn === 'number' ? txn : 0;
    const cmdObj = values[2];
    const args = values.slice(3);
    if (this.state === 'handshaken' && name !== 'connect') {
      throw new RtmpProtocolError('command', `"${name.slice(0, 32)}" before connect`);
    }
    switch (name) {
      case 'connect':
        return this.onConnect(txnId, cmdObj);
      case 'releaseStream':
        return this.sendCommand(0, '_result', txnId, null, undefined);
      case 'FCPublish':
        return this.sendCommand(0, 'onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description: 'FCPublish' });
      case 'createStream':
        return this.sendCommand(0, '_result', txnId, null, this.nextStreamId++);
      case 'publish':
        return this.onPublish(msg.streamId, args);
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.sink) this.endPublication('unpublished by the publisher');
        return;
      case 'play':
      case 'play2':
        this.log.warn({ command: name }, 'refusing play: this origin is ingest only');
        this.sendStatus(msg.streamId, 'error', 'NetStream.Play.Failed', 'This origin only accepts publishing; watch over HLS.');
        return this.fail('play refused');
      default:
        this.log.debug({ command: name.slice(0, 64) }, 'ignoring command');
        if (txnId > 0 && name !== '_result' && name !== '_error') {
          // Some clients wait for an answer to every transaction (e.g. _checkbw, getStreamLength).
          this.sendCommand(0, '_result', txnId, null, undefined);
        }
    }
  }

  private onConnect(txn: number, cmdObj: Amf0Value): void {
    if (this.state !== 'handshaken') throw new RtmpProtocolError('command', 'second connect on one connection');
    const rawApp = isObject(cmdObj) && typeof cmdObj.app === 'string' ? cmdObj.app : '';
    // "live?foo=bar" and "live/" are the same application to a human.
    const app = rawApp.split('?')[0].replace(/\/+$/, '');
    if (app !== RTMP_APP) {
      // Log only the first path segment: some users paste the whole URL, key included, into
      // the server field, and the key must not reach the logs.
      const shown = app.split('/')[0].slice(0, 64);
      this.log.warn({ app: shown }, 'connect refused: unknown application');
      this.sendCommand(0, '_error', txn, null, {
        level: 'error', code: 'NetConnection.Connect.Rejected',
        description: `Unknown application "${shown}"; publish to rtmp://<host>/${RTMP_APP}/<stream key>.`,
      });
      return this.fail('unknown application');
    }
    this.state = 'connected';
    if (isObject(cmdObj) && typeof cmdObj.flashVer === 'string') this.software = cmdObj.flashVer;
    const bw = Buffer.alloc(5);
    bw.writeUInt32BE(WINDOW_ACK_SIZE, 0);
    bw[4] = 2; // limit type dynamic
    this.sendMessage(CSID_CONTROL, MSG.windowAckSize, 0, this.u32(WINDOW_ACK_SIZE));
    this.sendMessage(CSID_CONTROL, MSG.setPeerBandwidth, 0, bw);
    this.sendMessage(CSID_CONTROL, MSG.setChunkSize, 0, this.u32(OUT_CHUNK_SIZE));
    this.writer.setChunkSize(OUT_CHUNK_SIZE);
    this.sendCommand(0, '_result', txn,
      { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
      { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
    this.log.debug('connected');
  }

  private onPublish(streamId: number, args: Amf0Value[]): void {
    if (this.state === 'publishing' || this.held) {
      this.log.warn('refusing a second publish on one connection');
      this.sendStatus(streamId, 'error', 'NetStream.Publish.Denied', 'This connection is already publishing.');
      return this.fail('second publish on one connection');
    }
    const name = typeof args[0] === 'string' ? args[0] : '';
    // OBS and others may append a query string to the key ("key?foo=bar").
    const streamKey = name.split('?')[0];
    if (streamKey === '') {
      return this.decided(streamId, args, { accept: false, reason: 'empty stream key', code: 'NetStream.Publish.BadName' });
    }
    const internal = (err: unknown): PublishDecision => {
      this.log.error({ err }, 'onPublish failed');
      return { accept: false, reason: 'internal error', code: 'NetStream.Publish.Denied' };
    };
    let decision: PublishDecision | Promise<PublishDecision>;
    try {
      decision = this.opts.onPublish({ app: RTMP_APP, streamKey, remoteAddress: this.opts.remoteAddress,
        disconnect: (reason) => this.fail(reason) });
    } catch (err) {
      decision = internal(err);
    }
    if (!(decision instanceof Promise)) return this.decided(streamId, args, decision);
    this.held = { messages: [], bytes: 0 };
    decision.catch(internal).then((d) => {
      if (this.state === 'closed') {
        // The publisher left while we decided: an accepted publication ends at once.
        if (d.accept) d.sink.close('the publisher left before the publish was answered');
        return;
      }
      this.decided(streamId, args, d);
      this.releaseHeld();
    }, () => {});
  }

  private decided(streamId: number, args: Amf0Value[], decision: PublishDecision): void {
    if (!decision.accept) {
      const code = decision.code ?? 'NetStream.Publish.BadName';
      this.log.warn({ reason: decision.reason, code, channel: decision.channelId }, 'publish refused');
      this.sendStatus(streamId, 'error', code, `Publish refused: ${decision.reason}`);
      return this.fail(`publish refused: ${decision.reason}`);
    }
    this.state = 'publishing';
    this.sink = decision.sink;
    this.channelId = decision.channelId;
    this.publishStreamId = streamId;
    this.log = this.log.child({ channel: decision.channelId });
    this.metadata = null;
    this.video = null;
    this.audio = null;
    this.tracks = null;
    this.pending = [];
    this.framesWritten = 0;
    if (this.software) this.sink.describePublisher?.(this.software);
    this.sendUserControl(UC_STREAM_BEGIN, streamId);
    this.sendStatus(streamId, 'status', 'NetStream.Publish.Start', 'Publishing started.');
    this.log.info({ publishType: typeof args[1] === 'string' ? args[1] : undefined }, 'publish started');
  }

  private onData(values: Amf0Value[]): void {
    // ffmpeg/OBS: "@setDataFrame", "onMetaData", {...}; some encoders send "onMetaData", {...}.
    let i = 0;
    if (values[i] === '@setDataFrame') i++;
    if (values[i] !== 'onMetaData') return;
    const md = values[i + 1];
    if (!isObject(md)) return;
    const num = (k: string): number => (typeof md[k] === 'number' && Number.isFinite(md[k]) ? (md[k] as number) : 0);
    const has = (k: string): boolean => md[k] !== undefined && md[k] !== null;
    this.metadata = {
      frameRate: num('framerate') || num('videoframerate'),
      width: num('width'),
      height: num('height'),
      expectVideo: has('videocodecid') || has('width'),
      expectAudio: has('audiocodecid') || has('stereo') || has('audiosamplerate'),
    };
    this.log.debug({ metadata: this.metadata }, 'metadata');
    if (typeof md.encoder === 'string' && md.encoder !== '') {
      this.software = md.encoder;
      this.sink?.describePublisher?.(md.encoder);
    }
    if (this.state === 'publishing' && !this.tracks && this.configsComplete()) this.declareTracks();
  }

  private onMedia(msg: RtmpMessage): void {
    if (this.state !== 'publishing' || !this.sink) {
      this.drop(`${msg.type === MSG.video ? 'video' : 'audio'} before publish`);
      return;
    }
    const r = msg.type === MSG.video ? parseVideoTag(msg.payload, msg.timestamp) : parseAudioTag(msg.payload, msg.timestamp);
    switch (r.kind) {
      case 'unsupported':
        this.log.warn({ reason: r.reason }, 'publish refused: unsupported codec');
        this.sendStatus(this.publishStreamId, 'error', 'NetStream.Publish.Denied', r.reason);
        return this.fail(r.reason);
      case 'skip':
        return;
      case 'config':
        return this.onConfig(r);
      case 'frame':
        return this.onFrame(r.au);
    }
  }

  private onConfig(r: { kind: 'config'; codecConfig: Buffer; sps?: SpsInfo; aac?: AacConfig }): void {
    const isVideo = r.sps !== undefined;
    const prev = isVideo ? this.video : this.audio;
    if (this.tracks) {
      // A track that appears mid-stream is not taken: players were told the tracks in the
      // multivariant playlist already.
      if (!prev) return this.drop(`${isVideo ? 'video' : 'audio'} sequence header for a track not declared (ignored)`);
      if (prev.codecConfig.equals(r.codecConfig)) return; // repeated (OBS resends it)
    }
    const codecConfig = Buffer.from(r.codecConfig); // own it: detach from the message buffer
    if (isVideo) this.video = { codecConfig, sps: r.sps! };
    else this.audio = { codecConfig, aac: r.aac! };
    // A new configuration mid-stream (OBS changing resolution) is declared again: downstream
    // starts a new init segment after a discontinuity.
    if (this.tracks || this.configsComplete()) this.declareTracks();
  }

  /** True when onMetaData announced the set of tracks and all of their sequence headers arrived. */
  private configsComplete(): boolean {
    const md = this.metadata;
    if (!md || (!md.expectVideo && !md.expectAudio)) return false;
    return (!md.expectVideo || this.video !== null) && (!md.expectAudio || this.audio !== null);
  }

  private onFrame(au: AccessUnit): void {
    if (this.tracks) return this.write(au);
    const hasConfig = au.trackId === VIDEO_TRACK_ID ? this.video !== null : this.audio !== null;
    if (!hasConfig) {
      this.drop(`${au.trackId === VIDEO_TRACK_ID ? 'video' : 'audio'} frame before its sequence header`);
      return;
    }
    this.pending.push(au);
    const md = this.metadata;
    const waiting = md && ((md.expectVideo && !this.video) || (md.expectAudio && !this.audio));
    const span = this.pending[this.pending.length - 1].dts - this.pending[0].dts;
    if (waiting && this.pending.length < MAX_PENDING_FRAMES && span < MAX_PENDING_SPAN_MS) return;
    if (waiting) this.log.warn({ missing: !this.video ? 'video' : 'audio' }, 'announced sequence header never arrived; publishing without it');
    this.declareTracks();
  }

  private declareTracks(): void {
    const tracks: TrackInfo[] = [];
    if (this.video) {
      const v: VideoTrackInfo = {
        kind: 'video', id: VIDEO_TRACK_ID, codec: 'h264', timescale: 1000,
        codecConfig: this.video.codecConfig, width: this.video.sps.width, height: this.video.sps.height,
        frameRate: this.metadata?.frameRate ?? 0,
      };
      tracks.push(v);
    }
    if (this.audio) {
      const a: AudioTrackInfo = {
        kind: 'audio', id: AUDIO_TRACK_ID, codec: 'aac', timescale: 1000,
        codecConfig: this.audio.codecConfig, sampleRate: this.audio.aac.sampleRate, channels: this.audio.aac.channels,
      };
      tracks.push(a);
    }
    if (tracks.length === 0) return;
    this.tracks = tracks;
    this.log.info({
      tracks: tracks.map((t) => t.kind === 'video'
        ? { kind: t.kind, codec: t.codec, width: t.width, height: t.height, frameRate: t.frameRate, profile: this.video!.sps.profileIdc, level: this.video!.sps.levelIdc }
        : { kind: t.kind, codec: t.codec, sampleRate: t.sampleRate, channels: t.channels }),
    }, 'tracks');
    if (!this.callSink(() => this.sink!.setTracks(tracks))) return;
    const pending = this.pending;
    this.pending = [];
    for (const au of pending) {
      this.write(au);
      if (!this.sink) return;
    }
  }

  private write(au: AccessUnit): void {
    if (!this.tracks!.some((t) => t.id === au.trackId)) {
      this.drop(`${au.trackId === VIDEO_TRACK_ID ? 'video' : 'audio'} frame for a track not declared`);
      return;
    }
    if (this.callSink(() => this.sink!.write(au))) this.framesWritten++;
  }

  /** Calls into the sink; a throwing sink ends the publication and the connection. */
  private callSink(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.log.error({ err }, 'sink threw; closing the publish');
      this.fail(`sink error: ${(err as Error)?.message ?? String(err)}`);
      return false;
    }
  }

  /** Counts a dropped message; logs at most once per LOG_INTERVAL_MS, with the count. */
  private drop(reason: string): void {
    this.dropped++;
    this.sink?.dropped?.();
    this.lastDropReason = reason;
    this.flushDropLog(false);
  }

  private flushDropLog(force: boolean): void {
    if (this.dropped === 0) return;
    const t = this.now();
    if (!force && t - this.lastDropLogAt < LOG_INTERVAL_MS) return;
    this.lastDropLogAt = t;
    this.log.warn({ dropped: this.dropped, last: this.lastDropReason }, 'messages dropped');
    this.dropped = 0;
  }
}

function isObject(v: Amf0Value): v is Amf0Object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
