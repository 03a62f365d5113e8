import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Width and height from a JPEG's start-of-frame marker; throws when the bytes are not a JPEG. */
export function jpegSize(buf: Buffer): { width: number; height: number } {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) throw new Error(`JPEG marker expected at ${pos}`);
    const marker = buf[pos + 1];
    const len = buf.readUInt16BE(pos + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(pos + 5), width: buf.readUInt16BE(pos + 7) };
    }
    pos += 2 + len;
  }
  throw new Error('JPEG without a start-of-frame marker');
}

/**
 * Decodes a JPEG with ffmpeg into 8-bit luma: proves a real decoder reads it, and gives the
 * pixels to look at (a black or flat picture is not a thumbnail).
 */
export async function decodeJpegLuma(buf: Buffer): Promise<{ width: number; height: number; luma: Buffer }> {
  const { width, height } = jpegSize(buf);
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', '-',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr.on('data', (d) => { err += d; });
  p.stdin.end(buf);
  const [code] = await once(p, 'exit');
  const luma = Buffer.concat(out);
  if (code !== 0 || luma.length !== width * height) throw new Error(`ffmpeg could not decode the JPEG (exit ${code}, ${luma.length} bytes): ${err}`);
  return { width, height, luma };
}

/** Mean and standard deviation of a region of an 8-bit luma plane. */
export function lumaStats(luma: Buffer, stride: number, x: number, y: number, w: number, h: number): { mean: number; stdev: number } {
  let sum = 0, sq = 0;
  for (let r = y; r < y + h; r++) {
    for (let c = x; c < x + w; c++) {
      const v = luma[r * stride + c];
      sum += v;
      sq += v * v;
    }
  }
  const n = w * h, mean = sum / n;
  return { mean, stdev: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}
