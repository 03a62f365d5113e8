/**
 * Opus packets out of an Ogg file (RFC 3533 pages, RFC 7845 Opus mapping), as a WebRTC sender
 * would put them in RTP: the two header packets (OpusHead, OpusTags) are skipped; each packet's
 * duration comes from its TOC byte (RFC 6716 §3.1), so pts can be counted as RTP would.
 */
import { readFileSync } from 'node:fs';

export interface OpusPacket {
  data: Buffer;
  /** 48 kHz samples from the first packet's start. */
  pts: number;
  samples: number;
}

/** Samples (48 kHz) of an Opus packet, from its TOC byte and frame count. */
export function opusPacketSamples(p: Buffer): number {
  const config = p[0] >> 3;
  // Frame length in 1/400 s: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
  const units = config < 12 ? [4, 8, 16, 24][config % 4] : config < 16 ? [4, 8][config % 2] : [1, 2, 4, 8][config % 4];
  const code = p[0] & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : p[1] & 0x3f;
  return units * 120 * frames;
}

export function readOggOpus(path: string): OpusPacket[] {
  const buf = readFileSync(path);
  const raw: Buffer[] = [];
  let partial: Buffer[] = [];
  for (let pos = 0; pos < buf.length;) {
    if (buf.toString('latin1', pos, pos + 4) !== 'OggS') throw new Error(`no Ogg page at ${pos}`);
    const segments = buf[pos + 26];
    let body = pos + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const len = buf[pos + 27 + i];
      partial.push(buf.subarray(body, body + len));
      body += len;
      // A lacing value below 255 ends the packet; 255 continues it (maybe on the next page).
      if (len < 255) { raw.push(Buffer.concat(partial)); partial = []; }
    }
    pos = body;
  }
  if (raw.length < 2 || raw[0].toString('latin1', 0, 8) !== 'OpusHead') throw new Error(`${path} is not Ogg Opus`);
  let pts = 0;
  return raw.slice(2).map((data) => {
    const samples = opusPacketSamples(data);
    const p = { data, pts, samples };
    pts += samples;
    return p;
  });
}
