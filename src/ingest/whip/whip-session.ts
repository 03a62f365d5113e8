import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ReceiverEstimatedMaxBitrate, RTCPeerConnection, RTCRtpCodecParameters, RtcpPayloadSpecificFeedback, useNACK, usePLI, useREMB, type MediaStreamTrack, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import type { PublicationSink } from '../../media/types.js';
import { EsToAccessUnits } from '../codecs/elementary-streams.js';
import { H264FrameAssembler } from './h264-frames.js';
import { RtpClock } from './rtp-clock.js';
import type { OpusTranscoder } from './opus-transcoder.js';

export interface WhipSessionOptions {
  channelId: string;
  remoteAddress: string;
  log: Logger;
  /** Keyframes asked for (PLI) at this interval: a WebRTC sender makes one only when asked. */
  keyframeIntervalMs: number;
  /** No ICE + DTLS connection after this long: the session ends. */
  connectTimeoutMs: number;
  /** UDP ports for ICE, or any. */
  portRange?: [number, number];
  /** The bandwidth the sender is told it has (REMB, every second), b/s. */
  maxBitrate: number;
  /** The Opus decoder and AAC encoder (the addon's). */
  newTranscoder: (onFrame: (aac: Buffer, asc: Buffer, pts48k: number) => void) => OpusTranscoder;
  /** Called once when the session ends, whatever ended it. */
  onEnd: (reason: string) => void;
}

const VIDEO_CLOCK = 90_000, AUDIO_CLOCK = 48_000;
/** Keyframe requests after a loss are at least this far apart (the sender needs time to make one). */
const MIN_PLI_SPACING_MS = 300;
const REMB_INTERVAL_MS = 1000;

/**
 * The codecs answered: H.264 passed through (the channel's pipeline packages it as it comes),
 * constrained baseline as every browser encodes it for WebRTC, one NAL unit or fragments per
 * packet; Opus, which the addon turns into AAC. NACK for retransmissions, PLI for keyframes.
 */
function codecs() {
  return {
    video: [new RTCRtpCodecParameters({
      mimeType: 'video/H264', clockRate: VIDEO_CLOCK, rtcpFeedback: [useNACK(), usePLI(), useREMB()],
      parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    })],
    // No transport-cc: with werift 0.24's feedback Chromium's bandwidth estimate collapsed within
    // 15 s (to 22 kb/s, 3 fps, 400 ms in its pacer); without any, the sender kept its start
    // estimate (about 300 kb/s, whatever the resolution). The session tells it, by REMB, the
    // bandwidth it may use (whip.maxBitrate); the sender's own cap (the page's quality) and its
    // loss-based control keep it lower where they must.
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: AUDIO_CLOCK, channels: 2 })],
  };
}

/**
 * One browser (or any WHIP client) publishing to a channel: werift's peer connection (ICE, DTLS,
 * SRTP, NACK), H.264 pictures reassembled from RTP and Opus handed to the addon's transcoder,
 * both placed on the session's clock and handed to the channel as any ingest's frames.
 */
export class WhipSession {
  readonly id = randomBytes(12).toString('base64url');
  readonly startedAt = Date.now();
  private readonly pc: RTCPeerConnection;
  private readonly es: EsToAccessUnits;
  private transcoder: OpusTranscoder | undefined;
  private video: { transceiver: RTCRtpTransceiver; ssrc: number | undefined; lastKeyframeAt: number; lastPliAt: number } | undefined;
  private timers: NodeJS.Timeout[] = [];
  private ended = false;
  private lastMediaAt = 0;
  readonly counts = { videoFrames: 0, lostFrames: 0, audioPackets: 0, keyframeRequests: 0 };

  constructor(private readonly o: WhipSessionOptions, private readonly sink: PublicationSink) {
    this.pc = new RTCPeerConnection({ codecs: codecs(), ...(o.portRange ? { icePortRange: o.portRange } : {}) });
    this.es = new EsToAccessUnits({
      expect: { video: true, audio: true },
      setTracks: (tracks) => {
        o.log.info({ tracks: tracks.map((t) => (t.kind === 'video' ? { kind: t.kind, width: t.width, height: t.height } : { kind: t.kind, sampleRate: t.sampleRate, channels: t.channels })) }, 'tracks');
        sink.setTracks(tracks);
      },
      write: (au) => sink.write(au),
    });
    this.pc.onTrack.subscribe((track) => this.onTrack(track));
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') o.log.info('WHIP publisher connected');
      if (state === 'failed' || state === 'closed') this.end(`the WebRTC connection ${state}`);
    });
    this.timers.push(setTimeout(() => {
      if (this.pc.connectionState !== 'connected') this.end(`no WebRTC connection within ${o.connectTimeoutMs} ms`);
    }, o.connectTimeoutMs));
    // A tab closed or a machine gone sends no goodbye: ICE would notice after its consent
    // timeout (30 s); no media for the connect timeout ends the session (as RTMP's idle timeout).
    this.timers.push(setInterval(() => {
      if (this.lastMediaAt > 0 && Date.now() - this.lastMediaAt > o.connectTimeoutMs) this.end(`no media for ${o.connectTimeoutMs} ms`);
    }, Math.min(1000, o.connectTimeoutMs)));
  }

  /** The SDP answer to the publisher's offer, with every local candidate (no trickle ICE). */
  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const media = this.pc.getTransceivers().map((t) => t.kind);
    if (!media.includes('video')) throw new WhipOfferError('the offer sends no video: this origin takes H.264 video (and Opus audio)');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('no local description');
    if (!/a=rtpmap:\d+ H264\/90000/i.test(sdp)) throw new WhipOfferError('the offer has no H.264 (packetization-mode 1): this origin takes H.264 video and Opus audio');
    return sdp;
  }

  private async gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const sub = this.pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') { sub.unSubscribe(); resolve(); } });
      this.timers.push(setTimeout(resolve, 2000));
    });
  }

  private onTrack(track: MediaStreamTrack): void {
    const transceiver = this.pc.getTransceivers().find((t) => t.receiver.tracks.includes(track));
    if (track.kind === 'video' && transceiver) this.startVideo(track, transceiver);
    else if (track.kind === 'audio') this.startAudio(track);
  }

  private startVideo(track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void {
    const clock = new RtpClock(VIDEO_CLOCK, this.startedAt);
    const v = this.video = { transceiver, ssrc: track.ssrc, lastKeyframeAt: 0, lastPliAt: 0 };
    const frames = new H264FrameAssembler({
      onFrame: (f) => {
        this.counts.videoFrames++;
        if (f.keyframe) v.lastKeyframeAt = Date.now();
        const pts = clock.ticks(f.rtpTimestamp, Date.now());
        this.push(() => this.es.push({ kind: 'video', pts, dts: pts, keyframe: f.keyframe, data: f.annexB }));
      },
      onLoss: () => { this.counts.lostFrames++; this.requestKeyframe(MIN_PLI_SPACING_MS); },
    });
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      this.lastMediaAt = Date.now();
      v.ssrc ??= rtp.header.ssrc;
      frames.push(rtp);
    });
    // A keyframe every keyframeIntervalMs (half a segment target): WebRTC encoders make one only when asked.
    this.requestKeyframe(0);
    const tick = Math.max(50, Math.min(250, this.o.keyframeIntervalMs / 4));
    this.timers.push(setInterval(() => {
      if (Date.now() - v.lastKeyframeAt >= this.o.keyframeIntervalMs - tick / 2) this.requestKeyframe(MIN_PLI_SPACING_MS);
    }, tick));
    this.timers.push(setInterval(() => this.sendRemb(), REMB_INTERVAL_MS));
  }

  /** REMB (draft-alvestrand-rmcat-remb): the bitrate as an 18-bit mantissa and a 6-bit exponent. */
  private sendRemb(): void {
    const v = this.video;
    if (!v || v.ssrc === undefined || this.ended) return;
    let exp = 0;
    while (this.o.maxBitrate / 2 ** exp > 0x3ffff) exp++;
    const receiver = v.transceiver.receiver;
    const remb = new ReceiverEstimatedMaxBitrate({ senderSsrc: receiver.rtcpSsrc, mediaSsrc: 0, ssrcNum: 1, ssrcFeedbacks: [v.ssrc],
      brExp: exp, brMantissa: Math.floor(this.o.maxBitrate / 2 ** exp), bitrate: BigInt(this.o.maxBitrate) });
    receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: remb })]).catch(() => undefined);
  }

  private requestKeyframe(spacingMs: number): void {
    const v = this.video;
    if (!v || v.ssrc === undefined || this.ended) return;
    const now = Date.now();
    if (now - v.lastPliAt < spacingMs) return;
    v.lastPliAt = now;
    this.counts.keyframeRequests++;
    v.transceiver.receiver.sendRtcpPLI(v.ssrc).catch(() => undefined);
  }

  private startAudio(track: MediaStreamTrack): void {
    const clock = new RtpClock(AUDIO_CLOCK, this.startedAt);
    this.transcoder = this.o.newTranscoder((aac, asc, pts48k) => {
      this.push(() => this.es.pushAac(aac, asc, (pts48k * 90_000) / AUDIO_CLOCK));
    });
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      this.lastMediaAt = Date.now();
      if (rtp.payload.length === 0) return;
      this.counts.audioPackets++;
      if (!this.transcoder?.push(rtp.payload, clock.ticks(rtp.header.timestamp, Date.now()))) this.sink.dropped?.();
    });
  }

  /** Nothing a publisher sends may throw out of werift's event handlers. */
  private push(fn: () => void): void {
    if (this.ended) return;
    try {
      fn();
    } catch (err) {
      this.sink.dropped?.();
      this.o.log.debug({ reason: (err as Error).message }, 'WHIP frame dropped');
    }
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  /** Ends the session (DELETE, the channel's disconnect, a failed connection); idempotent. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.o.log.info({ reason, ...this.counts }, 'WHIP publisher left');
    void this.transcoder?.close();
    this.sink.close(reason);
    this.pc.close().catch(() => undefined);
    this.o.onEnd(reason);
  }
}

/** An offer this origin cannot take (400 with the reason). */
export class WhipOfferError extends Error {}
