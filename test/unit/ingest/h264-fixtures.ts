import { spawnSync } from 'node:child_process';

/** Encodes one frame of a test pattern with libx264 and returns the raw Annex B stream. */
export function encodeAnnexB(opts: { width: number; height: number; profile?: string; level?: string; pixFmt?: string; extra?: string[] }): Buffer {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${opts.width}x${opts.height}:rate=25`,
    '-frames:v', '1', '-c:v', 'libx264', '-pix_fmt', opts.pixFmt ?? 'yuv420p'];
  if (opts.profile) args.push('-profile:v', opts.profile);
  if (opts.level) args.push('-level', opts.level);
  args.push(...(opts.extra ?? []), '-f', 'h264', '-');
  const r = spawnSync('ffmpeg', args, { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return r.stdout;
}

/** Splits an Annex B stream into NAL units (without start codes). */
export function splitAnnexB(b: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : b.length;
    while (end > s && b[end - 1] === 0) end--; // 4-byte start code's leading zero
    return b.subarray(s, end);
  });
}

export interface H264Fixture { sps: Buffer; pps: Buffer; avcC: Buffer; frameNals: Buffer[] }

/** SPS, PPS, an avcC record built from them, and the picture NAL units of the frame. */
export function h264Fixture(opts: Parameters<typeof encodeAnnexB>[0]): H264Fixture {
  const nals = splitAnnexB(encodeAnnexB(opts));
  const sps = nals.find((n) => (n[0] & 0x1f) === 7)!;
  const pps = nals.find((n) => (n[0] & 0x1f) === 8)!;
  const avcC = Buffer.concat([
    Buffer.from([1, sps[1], sps[2], sps[3], 0xff, 0xe1]),
    Buffer.from([sps.length >> 8, sps.length & 0xff]), sps,
    Buffer.from([1, pps.length >> 8, pps.length & 0xff]), pps,
  ]);
  const frameNals = nals.filter((n) => { const t = n[0] & 0x1f; return t >= 1 && t <= 5; });
  return { sps, pps, avcC, frameNals };
}

/** Length-prefixed (AVCC) form of NAL units, as FLV carries them. */
export function avcc(nals: Buffer[]): Buffer {
  return Buffer.concat(nals.flatMap((n) => {
    const l = Buffer.alloc(4);
    l.writeUInt32BE(n.length, 0);
    return [l, n];
  }));
}
