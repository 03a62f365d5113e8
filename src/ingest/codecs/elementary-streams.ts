import { AAC_SAMPLE_RATES, parseAudioSpecificConfig } from './aac.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID } from './track-ids.js';
import { parseSps } from './sps.js';
import type { AccessUnit, AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../../media/types.js';

/**
 * Elementary streams (as libavformat hands them over from MPEG-TS, and as WHIP's RTP unpacks:
 * H.264 in Annex B with its parameter sets in band; AAC in ADTS frames, or raw with its
 * AudioSpecificConfig) turned into what the channel takes from any ingest: tracks with an avcC and an AudioSpecificConfig, and AccessUnits in AVCC form with
 * millisecond timestamps (timescale 1000, as RTMP's).
 */

const NAL_SPS = 7, NAL_PPS = 8, NAL_AUD = 9, NAL_IDR = 5;

/** The NAL units of an Annex B byte stream (start codes of 3 or 4 bytes). */
export function splitAnnexB(data: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && data[end - 1] === 0) end--; // a 4-byte start code's leading zero, trailing zeros
        if (end > start) nals.push(data.subarray(start, end));
      }
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0 && start < data.length) nals.push(data.subarray(start));
  return nals;
}

/** An AVCDecoderConfigurationRecord from one SPS and PPS (4-byte NAL lengths). */
export function avcConfig(sps: Buffer, pps: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([1, sps[1], sps[2], sps[3], 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]), sps,
    Buffer.from([1, pps.length >> 8, pps.length & 0xff]), pps,
  ]);
}

export interface AdtsFrame { objectType: number; freqIndex: number; channelConfig: number; raw: Buffer }

/** The ADTS frames of a PES payload; throws on a frame that is not ADTS. */
export function splitAdts(data: Buffer): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let p = 0;
  while (p + 7 <= data.length) {
    if (data[p] !== 0xff || (data[p + 1] & 0xf6) !== 0xf0) throw new Error('AAC without ADTS headers');
    const protectionAbsent = data[p + 1] & 1;
    const objectType = (data[p + 2] >> 6) + 1;
    const freqIndex = (data[p + 2] >> 2) & 0xf;
    const channelConfig = ((data[p + 2] & 1) << 2) | (data[p + 3] >> 6);
    const length = ((data[p + 3] & 3) << 11) | (data[p + 4] << 3) | (data[p + 5] >> 5);
    const header = protectionAbsent ? 7 : 9;
    if (length < header || p + length > data.length) throw new Error('truncated ADTS frame');
    frames.push({ objectType, freqIndex, channelConfig, raw: data.subarray(p + header, p + length) });
    p += length;
  }
  return frames;
}

export interface EsPacket { kind: 'video' | 'audio'; pts: number | null; dts: number | null; keyframe: boolean; data: Buffer }

const ms = (ticks90k: number): number => Math.round(ticks90k / 90);

/**
 * One SRT publisher's streams: collects the parameter sets, declares the tracks once each
 * announced stream has its configuration (or after `waitMs` of media with what came), then
 * converts every packet. A new SPS/PPS or AAC configuration declares the tracks again, as an
 * RTMP sequence header does.
 */
export class EsToAccessUnits {
  private video: { sps: Buffer; pps: Buffer; config: Buffer; width: number; height: number } | undefined;
  private audio: { asc: Buffer; sampleRate: number; channels: number } | undefined;
  private declared: TrackInfo[] | undefined;
  private firstMediaMs: number | undefined;
  private sawKeyframe = false;

  constructor(private readonly o: {
    expect: { video: boolean; audio: boolean };
    setTracks: (tracks: TrackInfo[]) => void;
    write: (au: AccessUnit) => void;
    waitMs?: number;
  }) {}

  push(p: EsPacket): void {
    const dts = p.dts ?? p.pts;
    const pts = p.pts ?? p.dts;
    if (dts === null || pts === null) return; // no timestamp: nothing to place it by
    if (p.kind === 'video') this.pushVideo(p, ms(dts), ms(pts));
    else this.pushAudio(p, dts, pts);
  }

  private pushVideo(p: EsPacket, dts: number, pts: number): void {
    const nals = splitAnnexB(p.data);
    let sps: Buffer | undefined, pps: Buffer | undefined, idr = false;
    const kept: Buffer[] = [];
    for (const nal of nals) {
      const type = nal[0] & 0x1f;
      if (type === NAL_SPS) sps = nal;
      else if (type === NAL_PPS) pps = nal;
      else if (type !== NAL_AUD) kept.push(nal);
      if (type === NAL_IDR) idr = true;
    }
    if (sps && pps && (!this.video || !sps.equals(this.video.sps) || !pps.equals(this.video.pps))) {
      const info = parseSps(sps);
      this.video = { sps: Buffer.from(sps), pps: Buffer.from(pps), config: avcConfig(sps, pps), width: info.width, height: info.height };
      if (this.declared) this.declare(); // a new configuration mid-stream
    }
    if (kept.length === 0 || !this.video) return;
    const keyframe = p.keyframe || idr;
    const data = Buffer.allocUnsafe(kept.reduce((n, x) => n + 4 + x.length, 0));
    let off = 0;
    for (const nal of kept) { data.writeUInt32BE(nal.length, off); nal.copy(data, off + 4); off += 4 + nal.length; }
    this.media({ trackId: VIDEO_TRACK_ID, dts, pts, keyframe, data }, dts);
  }

  private pushAudio(p: EsPacket, dts90k: number, pts90k: number): void {
    const frames = splitAdts(p.data);
    for (const [i, f] of frames.entries()) {
      const asc = Buffer.from([(f.objectType << 3) | (f.freqIndex >> 1), ((f.freqIndex & 1) << 7) | (f.channelConfig << 3)]);
      // Frames after the first in one PES packet: 1024 samples each.
      const step = (i * 1024 * 90000) / (AAC_SAMPLE_RATES[f.freqIndex] ?? parseAudioSpecificConfig(asc).sampleRate);
      this.pushAac(Buffer.from(f.raw), asc, pts90k + step, dts90k + step);
    }
  }

  /**
   * One raw AAC frame (no ADTS header) and its AudioSpecificConfig, timestamps in 90 kHz ticks:
   * what an ingest that makes its own AAC (WHIP's Opus transcoded in the addon) hands over.
   */
  pushAac(raw: Buffer, asc: Buffer, pts90k: number, dts90k = pts90k): void {
    if (!this.audio || !asc.equals(this.audio.asc)) {
      const cfg = parseAudioSpecificConfig(asc);
      this.audio = { asc: Buffer.from(asc), sampleRate: cfg.sampleRate, channels: cfg.channels };
      if (this.declared) this.declare();
    }
    const dts = ms(dts90k);
    this.media({ trackId: AUDIO_TRACK_ID, dts, pts: ms(pts90k), keyframe: true, data: raw }, dts);
  }

  private media(au: AccessUnit, atMs: number): void {
    if (!this.declared) {
      this.firstMediaMs ??= atMs;
      const ready = (!this.o.expect.video || this.video) && (!this.o.expect.audio || this.audio);
      if (!ready && atMs - this.firstMediaMs < (this.o.waitMs ?? 3000)) return;
      if (!this.video && !this.audio) return;
      this.declare();
    }
    // Video starts at a keyframe (a decoder needs one); audio waits for it too, to start together.
    if (this.video && !this.sawKeyframe) {
      if (au.trackId !== VIDEO_TRACK_ID || !au.keyframe) return;
      this.sawKeyframe = true;
    }
    if (au.trackId === VIDEO_TRACK_ID ? !this.video : !this.audio) return;
    this.o.write(au);
  }

  private declare(): void {
    const tracks: TrackInfo[] = [];
    if (this.video) {
      const v: VideoTrackInfo = { kind: 'video', id: VIDEO_TRACK_ID, codec: 'h264', timescale: 1000, codecConfig: this.video.config,
        width: this.video.width, height: this.video.height, frameRate: 0 };
      tracks.push(v);
    }
    if (this.audio) {
      const a: AudioTrackInfo = { kind: 'audio', id: AUDIO_TRACK_ID, codec: 'aac', timescale: 1000, codecConfig: this.audio.asc,
        sampleRate: this.audio.sampleRate, channels: this.audio.channels };
      tracks.push(a);
    }
    this.declared = tracks;
    this.o.setTracks(tracks);
  }
}
