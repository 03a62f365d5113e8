import { open } from 'node:fs/promises';

/**
 * Bytes [start, end) of a file, read off the event loop; undefined when the file is gone
 * (retention deleted it between listing and reading). Short when the file is shorter.
 */
export async function readRange(path: string, start: number, end: number): Promise<Buffer | undefined> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(Math.max(0, end - start));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await file.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    await file.close();
  }
}
