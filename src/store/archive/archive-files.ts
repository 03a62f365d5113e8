import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readRange } from '../disk/read-range.js';

/** A file being written from start to end (a segment). */
export interface AppendHandle {
  append(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every operation the archive (writer, reader, recovery, session log, retention) performs on
 * its storage, and nothing else: the one seam where an object-store backend replaces the
 * local file system (names are the layout's paths; see archive-layout.ts). All of them run
 * off the event loop.
 */
export interface ArchiveFiles {
  /** Creates (or empties) a file for writing from its start; creates its directory. */
  create(path: string): Promise<AppendHandle>;
  /** Appends text to a log, creating it and its directory. */
  appendText(path: string, text: string): Promise<void>;
  /** Opens a log for many appends (a journal written at every part), creating it and its directory. */
  openLog(path: string): Promise<AppendHandle>;
  /** Replaces a file's content at once: readers see the old or the new content, never a mix. */
  writeAtomic(path: string, data: Buffer | string): Promise<void>;
  /** The whole file as text; undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Bytes [start, end); undefined when the file does not exist; short when it is shorter. */
  read(path: string, start: number, end: number): Promise<Buffer | undefined>;
  /** Size in bytes; undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  truncate(path: string, length: number): Promise<void>;
  /** Deletes a file; a missing file is fine. */
  remove(path: string): Promise<void>;
  /** Deletes a directory and everything in it; a missing one is fine. */
  removeTree(dir: string): Promise<void>;
  /** Entries of a directory; [] when it does not exist. */
  list(dir: string): Promise<{ name: string; isDirectory: boolean }[]>;
}

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Writes a whole buffer at the file's current position (write() may write less than asked). */
async function writeAll(file: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await file.write(data, off, data.length - off)).bytesWritten;
}

/** The local file system under dataDir (fs/promises: libuv's thread pool). */
export const localFiles: ArchiveFiles = {
  async create(path) {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(path, 'w');
    return { append: (data) => writeAll(file, data), close: () => file.close() };
  },
  async appendText(path, text) {
    try {
      await appendFile(path, text);
    } catch (err) {
      if (!missing(err)) throw err;
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, text);
    }
  },
  async openLog(path) {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(path, 'a');
    return { append: (data) => writeAll(file, data), close: () => file.close() };
  },
  async writeAtomic(path, data) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.tmp`, data);
    await rename(`${path}.tmp`, path);
  },
  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },
  read: readRange,
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },
  truncate: (path, length) => truncate(path, length),
  remove: (path) => rm(path, { force: true }),
  removeTree: (dir) => rm(dir, { recursive: true, force: true }),
  async list(dir) {
    try {
      return (await readdir(dir, { withFileTypes: true })).map((d) => ({ name: d.name, isDirectory: d.isDirectory() }));
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  },
};
