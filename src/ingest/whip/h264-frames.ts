import { dePacketizeRtpPackets } from 'werift';
import { Unwrapper } from './rtp-clock.js';

/** What the assembler needs of an RTP packet (werift's RtpPacket has it). */
export interface RtpIn {
  header: { sequenceNumber: number; timestamp: number; marker: boolean };
  payload: Buffer;
}

/** One whole coded picture: its NAL units in Annex B form. */
export interface H264Frame {
  rtpTimestamp: number;
  keyframe: boolean;
  annexB: Buffer;
}

/** Packets held; more means the stream is broken beyond waiting: start again at the next frame. */
const MAX_HELD = 4000;
const FU_A = 28;

/**
 * H.264 over RTP (RFC 6184, packetization-mode 1) back into pictures. Packets are put in
 * sequence order; a picture is whole when every packet from the one after the previous
 * picture's last (marker bit) to its own marker has come. A missing packet is waited for
 * `maxWaitMs` (the sender retransmits it on our NACK, which werift sends), then the broken
 * picture is dropped and, since every following picture refers to it, so is everything up to the
 * next keyframe, which `onLoss` asks the sender for (a PLI). The payloads are unpacked by
 * werift's depacketizer (single NAL units, STAP-A, FU-A).
 */
export class H264FrameAssembler {
  private readonly seq = new Unwrapper(16);
  private readonly held = new Map<number, { packet: RtpIn; at: number }>();
  private next: number | undefined;
  /** After a loss (and at the start): pictures are dropped until a keyframe. */
  private waitingForKeyframe = true;
  lostFrames = 0;

  constructor(private readonly o: {
    onFrame: (f: H264Frame) => void;
    /** A picture was lost: ask the sender for a keyframe. */
    onLoss: () => void;
    maxWaitMs?: number;
    now?: () => number;
  }) {}

  push(packet: RtpIn): void {
    const now = this.o.now?.() ?? Date.now();
    const s = this.seq.unwrap(packet.header.sequenceNumber);
    if (this.next === undefined) this.next = s;
    if (s < this.next || this.held.has(s)) return; // late (its picture is gone) or repeated
    this.held.set(s, { packet, at: now });
    if (this.held.size > MAX_HELD) this.skipBrokenFrame(true);
    this.drain(now);
  }

  private drain(now: number): void {
    for (;;) {
      const frame = this.wholeFrameAtNext();
      if (frame) {
        this.emit(frame);
        continue;
      }
      const first = this.oldestHeld();
      if (first === undefined || now - first.at < (this.o.maxWaitMs ?? 150)) return;
      this.skipBrokenFrame(false);
    }
  }

  /** The packets of the picture starting at `next`, when all have come. */
  private wholeFrameAtNext(): RtpIn[] | undefined {
    const packets: RtpIn[] = [];
    for (let s = this.next!; ; s++) {
      const h = this.held.get(s);
      if (!h) return undefined;
      packets.push(h.packet);
      if (h.packet.header.marker) return packets;
    }
  }

  private emit(packets: RtpIn[]): void {
    const start = this.next!;
    for (let i = 0; i < packets.length; i++) this.held.delete(start + i);
    this.next = start + packets.length;
    // A picture whose first packet continues a fragmented NAL unit lost its beginning (the
    // stream was joined mid-picture): broken.
    const head = packets[0].payload;
    const midFragment = head.length > 1 && (head[0] & 0x1f) === FU_A && (head[1] & 0x80) === 0;
    const frame = midFragment ? undefined : dePacketizeRtpPackets('MPEG4/ISO/AVC', packets as Parameters<typeof dePacketizeRtpPackets>[1]);
    if (!frame || frame.data.length === 0) return this.lost();
    if (this.waitingForKeyframe && !frame.isKeyframe) return;
    this.waitingForKeyframe = false;
    this.o.onFrame({ rtpTimestamp: packets[0].header.timestamp, keyframe: frame.isKeyframe, annexB: frame.data });
  }

  private oldestHeld(): { at: number } | undefined {
    let oldest: { at: number } | undefined;
    for (const h of this.held.values()) if (!oldest || h.at < oldest.at) oldest = h;
    return oldest;
  }

  /**
   * Gives up on the picture at `next`: drops what is held of it, up to its marker (or, without
   * one, up to the first packet held after the hole), and waits for a keyframe.
   */
  private skipBrokenFrame(all: boolean): void {
    const seqs = [...this.held.keys()].sort((a, b) => a - b);
    if (all || seqs.length === 0) {
      this.held.clear();
      this.next = undefined;
    } else {
      const marker = seqs.find((s) => this.held.get(s)!.packet.header.marker);
      const resumeAt = marker !== undefined ? marker + 1 : seqs[0];
      for (const s of seqs) if (s < resumeAt) this.held.delete(s);
      this.next = resumeAt;
    }
    this.lost();
  }

  private lost(): void {
    this.lostFrames++;
    this.waitingForKeyframe = true;
    this.o.onLoss(); // the session spaces its keyframe requests
  }
}
