import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { jpegSize as sofSize } from '../../src/media/thumbnails/jpeg-size.js';

/** Width and height from a JPEG's start-of-frame marker; throws when the bytes are not a JPEG. */
export function jpegSize(buf: Buffer): { width: number; height: number } {
  const size = sofSize(buf);
  if (size.width === 0 || size.height === 0) throw new Error('not a JPEG with a start-of-frame marker');
  return size;
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
