import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { OriginError } from '../../errors.js';
import { repairRecording } from './repair-recording.js';
import { readSidecar, sidecarPath, writeSidecar, type RecordingSidecar } from './sidecar.js';

/** One recording as the API lists it. */
export interface RecordingInfo {
  channel: string;
  /** Path of the .mp4 (under the catalog root). */
  file: string;
  /** The file's actual size on disk. */
  bytes: number;
  durationMs: number;
  /** ISO 8601 UTC; endedAt null while the file is still being recorded. */
  startedAt: string;
  endedAt: string | null;
  complete: boolean;
}

interface Found {
  mp4: string;
  sidecar: RecordingSidecar;
}

/** remove() of a file that is still being recorded. */

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * The recordings under `<dataDir>/recordings/<channel>/`, read from their sidecars. Holds no
 * state: every call reads the folder, so it sees what the recorders wrote a moment ago.
 */
export class RecordingCatalog {
  constructor(private readonly root: string) {}

  /** All recordings (or one channel's), oldest first per channel; sizes are measured on disk. */
  async list(channelId?: string): Promise<RecordingInfo[]> {
    const out: RecordingInfo[] = [];
    for (const { mp4, sidecar: s } of await this.find(channelId)) {
      let bytes: number;
      try {
        bytes = (await stat(mp4)).size;
      } catch (err) {
        if (isMissing(err)) continue;
        throw err;
      }
      out.push({ channel: s.channel, file: mp4, bytes, durationMs: s.durationMs, startedAt: s.startedAt, endedAt: s.endedAt, complete: s.complete });
    }
    return out;
  }

  /**
   * Run once at process start, before any recorder writes: every recording a crash left
   * incomplete is cut back to its last whole fragment, measured again and marked complete
   * (endedAt = the file's last modification, i.e. about when the crash happened). A sidecar
   * without its file, or a file with nothing playable, is removed. Leftover sidecar temporaries
   * are deleted.
   */
  async recover(logger: Logger): Promise<void> {
    const log = logger.child({ component: 'recording' });
    for (const channel of await entries(this.root)) {
      for (const name of await entries(join(this.root, channel))) {
        if (name.endsWith('.json.tmp')) await rm(join(this.root, channel, name), { force: true });
      }
    }
    for (const { mp4, sidecar: s } of await this.find()) {
      if (s.complete) continue;
      const clog = log.child({ channel: s.channel });
      try {
        const r = await repairRecording(mp4);
        if (!r) {
          await this.delete(mp4);
          clog.warn({ file: mp4 }, 'incomplete recording with nothing playable removed');
          continue;
        }
        const endedAt = (await stat(mp4)).mtime.toISOString();
        const durationMs = r.durationMs ?? s.durationMs;
        await writeSidecar(mp4, { ...s, endedAt, durationMs, bytes: r.bytes, complete: true });
        clog.info({ file: mp4, truncatedBytes: r.truncatedBytes, durationMs, sidecarDurationMs: s.durationMs, bytes: r.bytes },
          'recording recovered after a crash');
      } catch (err) {
        if (isMissing(err)) {
          await this.delete(mp4);
          clog.warn({ file: mp4 }, 'sidecar without its recording removed');
        } else clog.error({ err, file: mp4 }, 'recording could not be recovered');
      }
    }
  }

  /**
   * Deletes a recording and its sidecar. `file` is a path from list(); anything outside the
   * root or not a recording is NOT_FOUND, and a file still being recorded is refused.
   */
  async remove(file: string): Promise<void> {
    const path = resolve(file);
    if (!path.startsWith(resolve(this.root) + sep) || !path.endsWith('.mp4')) throw new OriginError('NOT_FOUND', 'no such recording');
    const s = await readSidecar(sidecarPath(path));
    if (s && !s.complete) throw new OriginError('RECORDING_IN_PROGRESS', file);
    try {
      await rm(path);
    } catch (err) {
      if (isMissing(err)) throw new OriginError('NOT_FOUND', 'no such recording');
      throw err;
    }
    await rm(sidecarPath(path), { force: true });
  }

  private async delete(mp4: string): Promise<void> {
    await rm(mp4, { force: true });
    await rm(sidecarPath(mp4), { force: true });
  }

  /** Every sidecar (of one channel, or all), with the path of its .mp4. */
  private async find(channelId?: string): Promise<Found[]> {
    const out: Found[] = [];
    // A channel id from a request never walks out of the root.
    if (channelId !== undefined && (channelId !== basename(channelId) || channelId.startsWith('.'))) return [];
    const channels = channelId === undefined ? await entries(this.root) : [channelId];
    for (const channel of channels) {
      const dir = join(this.root, channel);
      for (const name of await entries(dir)) {
        if (!name.endsWith('.json')) continue;
        const sidecar = await readSidecar(join(dir, name));
        if (sidecar) out.push({ mp4: join(dir, basename(sidecar.file)), sidecar });
      }
    }
    return out;
  }
}
