import { basename, isAbsolute, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { localFiles, type AppendHandle, type ArchiveFiles } from '../archive/archive-files.js';
import { RateLimitedLog } from '../recording/rate-limited-log.js';
import type { Bucket } from './bucket.js';
import { chunkKey, copiesOf, LOG_CHUNK_BYTES } from './log-copies.js';
import { ReadCache } from './read-cache.js';
import type { UploadLanes } from './upload-lanes.js';

export interface TieredFilesOptions {
  /** Paths under it map to keys relative to it (`<dataDir>/archive/c1/…` ▶ `archive/c1/…`). */
  dataDir: string;
  bucket: Bucket;
  lanes: UploadLanes;
  logger: Logger;
  /** Bytes of segments, inits and indexes read back from the store kept in RAM. */
  cacheBytes: number;
  now?: () => number;
}

/** Journals written with openLog: this disk's crash recovery only, never uploaded nor read from the store. */
const LOCAL_JOURNALS = new Set(['parts.log']);

/** Logs whose uploaded chunks are remembered: every rendition's current hour, with room to spare. */
const MAX_TRACKED_LOGS = 256;

/** How long a listing or an index read from the store is reused: other origins append to them. */
const INDEX_TTL_MS = 1_000;

/**
 * The archive's storage as two tiers: the local disk, written first and read first (the hot
 * edge, crash recovery), and an S3-compatible bucket every file is copied to once complete,
 * read when the local copy is gone (deleted by local retention, another origin's archive, a
 * lost machine). Keys are the paths relative to the data dir, so the bucket holds the same
 * layout (docs: README, Archive on object storage).
 *
 * Logs (names ending in .log: an hour's segment index, the session log) are appended to by
 * whichever origin has the channel. Each origin uploads its own copy whole as `<name>@<origin>`
 * and a read merges every origin's copy with the local file, so two origins never overwrite
 * each other's lines and no read-modify-write is needed. The open segment's journal
 * (parts.log) is opened with openLog and stays local: it only matters to this disk's recovery.
 *
 * Copies go up through UploadLanes, one lane per channel, in the order the files were
 * completed: a segment before the index line naming it, an init before its segments.
 */
export class TieredFiles implements ArchiveFiles {
  private writer: string | undefined;
  /** Per log: this origin's full chunks already up (they never change); the next sync starts after them. */
  private readonly sentChunks = new Map<string, number>();
  private readonly cache: ReadCache<Buffer | string>;
  private readonly log: Logger;
  private readonly remoteErrors: RateLimitedLog;

  constructor(private readonly o: TieredFilesOptions) {
    this.cache = new ReadCache(o.cacheBytes, o.now);
    this.log = o.logger.child({ component: 'object-store' });
    this.remoteErrors = new RateLimitedLog(this.log, 'warn', 'object store: cannot list; using the local copy only', o.now ?? Date.now, 60_000);
  }

  get bucket(): Bucket {
    return this.o.bucket;
  }

  get readCache(): ReadCache<Buffer | string> {
    return this.cache;
  }

  /** Starts the uploads, naming this origin's copies of the logs after `writerId` (its origin id). */
  start(writerId: string): void {
    this.writer = writerId.replace(/[^A-Za-z0-9._-]/g, '_');
    this.o.lanes.start();
  }

  /** The object key of a path under the data dir. */
  keyOf(path: string): string {
    const rel = relative(this.o.dataDir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`object store: ${path} is not under the data dir`);
    return rel.split(sep).join('/');
  }

  /** One lane per channel (`archive/<channel>`, `recordings/<channel>`). */
  private laneOf(key: string): string {
    return key.split('/', 2).join('/');
  }

  /** A log appended to by several origins (each uploads its copy). */
  private static isLog(path: string): boolean {
    const name = basename(path);
    return name.endsWith('.log') && !LOCAL_JOURNALS.has(name);
  }

  /** Copies the local file up once it is whole (a missing file was deleted meanwhile: nothing to do). */
  private upload(path: string): void {
    const key = this.keyOf(path);
    void this.o.lanes.add(this.laneOf(key), async () => {
      const size = await localFiles.size(path);
      if (size === undefined) return;
      await this.o.bucket.putFile(key, path, size);
    });
  }

  /**
   * Uploads this origin's copy of a log: the chunks not up yet and the last, partial one
   * (log-copies.ts); several appends waiting in the lane go up once. `fresh`: the local file was
   * rewritten, every chunk goes up again and this origin's chunks past its end go.
   */
  private syncLog(path: string, fresh = false): void {
    const key = this.keyOf(path);
    void this.o.lanes.add(this.laneOf(key), async () => {
      if (fresh) this.sentChunks.delete(path);
      const size = await localFiles.size(path);
      if (size === undefined) return;
      const data = size > 0 ? await localFiles.read(path, 0, size) : Buffer.alloc(0);
      if (data === undefined) return;
      const chunks = Math.ceil(data.length / LOG_CHUNK_BYTES);
      for (let i = this.sentChunks.get(path) ?? 0; i < chunks; i++) {
        await this.o.bucket.put(chunkKey(key, this.writer!, i), data.subarray(i * LOG_CHUNK_BYTES, (i + 1) * LOG_CHUNK_BYTES), 'text/plain; charset=utf-8');
      }
      // Most recently synced last; the oldest go beyond a bound (hours long over): forgetting one
      // only costs uploading its full chunks once more.
      this.sentChunks.delete(path);
      this.sentChunks.set(path, Math.floor(data.length / LOG_CHUNK_BYTES));
      if (this.sentChunks.size > MAX_TRACKED_LOGS) this.sentChunks.delete(this.sentChunks.keys().next().value!);
      if (fresh) {
        const stale = (await this.o.bucket.listAll(`${key}@${this.writer}~`)).filter((k) => Number(k.slice(k.lastIndexOf('~') + 1)) >= chunks);
        await this.o.bucket.delete(stale);
      }
    }, fresh ? undefined : key);
  }

  /**
   * Queues the upload of every local file under `dir` the store lacks, and of every log whose
   * copy there differs: what a stop or an outage left waiting (uploads queue in memory only).
   * One listing per local directory; run at start, before ingest opens.
   */
  async resync(dir: string): Promise<number> {
    let queued = 0;
    const walk = async (d: string): Promise<void> => {
      const local = await localFiles.list(d);
      if (local.length === 0) return;
      const remote = new Map((await this.o.bucket.list(`${this.keyOf(d)}/`)).objects.map((o) => [o.name, o.size]));
      for (const e of local) {
        const path = `${d}/${e.name}`;
        if (e.isDirectory) { await walk(path); continue; }
        if (e.name === 'parts.log' || e.name.endsWith('.tmp')) continue;
        if (TieredFiles.isLog(path)) {
          const own = copiesOf([...remote].map(([name, size]) => ({ name, size })), e.name).get(this.writer!) ?? [];
          if (own.reduce((sum, c) => sum + c.size, 0) !== await localFiles.size(path)) { this.syncLog(path, true); queued++; }
        } else if (!remote.has(e.name)) { this.upload(path); queued++; }
      }
    };
    await walk(dir);
    return queued;
  }

  async create(path: string): Promise<AppendHandle> {
    const file = await localFiles.create(path);
    return {
      append: (data) => file.append(data),
      close: async () => {
        await file.close();
        this.upload(path);
      },
    };
  }

  async appendText(path: string, text: string): Promise<void> {
    await localFiles.appendText(path, text);
    this.syncLog(path);
  }

  openLog(path: string): Promise<AppendHandle> {
    return localFiles.openLog(path);
  }

  /**
   * Replaces a file. For a log the new content replaces the merged view (retention rewrote it from
   * a merged read): this origin's copy goes up, then the other origins' copies go. An origin
   * still appending to its copy uploads its whole local log again at its next append.
   */
  async writeAtomic(path: string, data: Buffer | string): Promise<void> {
    await localFiles.writeAtomic(path, data);
    if (!TieredFiles.isLog(path)) { this.upload(path); return; }
    this.syncLog(path, true);
    const key = this.keyOf(path);
    await this.o.lanes.add(this.laneOf(key), async () => {
      const others = (await this.o.bucket.listAll(`${key}@`)).filter((k) => !k.startsWith(`${key}@${this.writer}~`));
      await this.o.bucket.delete(others);
      this.cache.forget(key);
    });
  }

  async readText(path: string): Promise<string | undefined> {
    if (LOCAL_JOURNALS.has(basename(path))) return localFiles.readText(path);
    if (TieredFiles.isLog(path)) return this.mergedLog(path);
    const local = await localFiles.readText(path);
    if (local !== undefined) return local;
    const bytes = await this.remote(this.keyOf(path));
    return bytes?.toString('utf8');
  }

  async read(path: string, start: number, end: number): Promise<Buffer | undefined> {
    const local = await localFiles.read(path, start, end);
    if (local !== undefined) return local;
    const key = this.keyOf(path);
    const whole = this.cache.get(key);
    if (whole !== undefined) return (whole as Buffer).subarray(start, end);
    // A whole segment or init is cached for the viewers after this one; a smaller range (a part
    // of a DVR segment) is fetched as asked.
    const size = await this.remoteSize(key);
    if (size === undefined) return undefined;
    if (start === 0 && end >= size) return this.remote(key);
    return this.o.bucket.get(key, { start, end: Math.min(end, size) });
  }

  async size(path: string): Promise<number | undefined> {
    return await localFiles.size(path) ?? this.remoteSize(this.keyOf(path));
  }

  async truncate(path: string, length: number): Promise<void> {
    await localFiles.truncate(path, length);
    this.upload(path);
  }

  async remove(path: string): Promise<void> {
    await localFiles.remove(path);
    const key = this.keyOf(path);
    this.cache.forget(key);
    // In the lane: after an upload of the same file queued before it.
    if (TieredFiles.isLog(path)) this.sentChunks.delete(path);
    await this.o.lanes.add(this.laneOf(key), async () =>
      this.o.bucket.delete(TieredFiles.isLog(path) ? await this.o.bucket.listAll(`${key}@${this.writer}~`) : [key]));
  }

  async removeTree(dir: string): Promise<void> {
    await localFiles.removeTree(dir);
    const key = this.keyOf(dir);
    this.cache.forget(`${key}/`);
    await this.o.bucket.deletePrefix(`${key}/`);
  }

  async list(dir: string): Promise<{ name: string; isDirectory: boolean }[]> {
    const local = await localFiles.list(dir);
    const key = this.keyOf(dir);
    let remote: { objects: { name: string; size: number }[]; dirs: string[] };
    try {
      remote = await this.listing(`${key}/`);
    } catch (err) {
      this.remoteErrors.note({ err, dir: key });
      return local;
    }
    const seen = new Map(local.map((e) => [e.name, e]));
    for (const d of remote.dirs) if (!seen.has(d)) seen.set(d, { name: d, isDirectory: true });
    for (const o of remote.objects) {
      const name = o.name.replace(/@[^/]*$/, ''); // a log's copies are one file
      if (!seen.has(name)) seen.set(name, { name, isDirectory: false });
    }
    return [...seen.values()];
  }

  /** The local log followed by every other origin's copy (this origin's own copy when the local file is gone). */
  private async mergedLog(path: string): Promise<string | undefined> {
    const local = await localFiles.readText(path);
    const key = this.keyOf(path);
    const slash = key.lastIndexOf('/');
    const name = key.slice(slash + 1);
    let copies: Map<string, { name: string; size: number }[]>;
    try {
      copies = copiesOf((await this.listing(key.slice(0, slash + 1))).objects, name);
    } catch (err) {
      if (local === undefined) throw err;
      this.remoteErrors.note({ err, dir: key });
      return local;
    }
    const texts: string[] = local !== undefined ? [local] : [];
    for (const [writer, chunks] of copies) {
      if (local !== undefined && writer === this.writer) continue;
      let text = '';
      for (const chunk of chunks) {
        const chunkKey = key.slice(0, slash + 1) + chunk.name;
        let part = this.cache.get(chunkKey) as string | undefined;
        if (part === undefined) {
          part = (await this.o.bucket.get(chunkKey))?.toString('utf8');
          if (part === undefined) break; // deleted since the listing
          // A full chunk never changes; the last one grows.
          this.cache.set(chunkKey, part, chunk.size === LOG_CHUNK_BYTES ? Infinity : INDEX_TTL_MS);
        }
        text += part;
      }
      texts.push(text);
    }
    if (texts.length === 0) return undefined;
    return texts.map((t) => (t === '' || t.endsWith('\n') ? t : `${t}\n`)).join('');
  }

  private async listing(prefix: string): Promise<{ objects: { name: string; size: number }[]; dirs: string[] }> {
    const cacheKey = `list:${prefix}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return JSON.parse(cached as string);
    const out = await this.o.bucket.list(prefix);
    this.cache.set(cacheKey, JSON.stringify(out), INDEX_TTL_MS);
    return out;
  }

  /** A whole object, cached (segments and inits never change once up). */
  private async remote(key: string): Promise<Buffer | undefined> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached as Buffer;
    const bytes = await this.o.bucket.get(key);
    if (bytes) this.cache.set(key, bytes);
    return bytes;
  }

  private async remoteSize(key: string): Promise<number | undefined> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return (cached as Buffer).length;
    const sizeKey = `size:${key}`;
    const known = this.cache.get(sizeKey);
    if (known !== undefined) return Number(known);
    const size = await this.o.bucket.size(key);
    if (size !== undefined) this.cache.set(sizeKey, String(size));
    return size;
  }
}
