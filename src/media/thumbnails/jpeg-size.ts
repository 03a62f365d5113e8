/**
 * Width and height from a JPEG's start-of-frame marker (SOF0…SOF15 but DHT, JPG and DAC);
 * zeros when the bytes hold none. Enough to describe a picture read back from disk without
 * decoding it.
 */
export function jpegSize(buf: Buffer): { width: number; height: number } {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return { width: 0, height: 0 };
  for (let pos = 2; pos + 9 <= buf.length && buf[pos] === 0xff;) {
    const marker = buf[pos + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(pos + 5), width: buf.readUInt16BE(pos + 7) };
    }
    pos += 2 + buf.readUInt16BE(pos + 2);
  }
  return { width: 0, height: 0 };
}
