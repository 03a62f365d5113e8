import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';
import type { RecordingInfo } from '../recording/recording-catalog.js';
import { parseSidecar, readSidecar, sidecarPath } from '../recording/sidecar.js';
import type { Bucket } from './bucket.js';
import type { UploadLanes } from './upload-lanes.js';

/**
 * The recordings in the object store: each finished file (and its sidecar) goes up as
 * `recordings/<channel>/<name>.mp4|.json` once the recorder announces it (recording.ready),
 * multipart when large; any origin lists, downloads and deletes them. The local files stay
 * where the recorder wrote them.
 */
export class RecordingMirror {
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: { root: string; bucket: Bucket; lanes: UploadLanes; events: EventBus; logger: Logger }) {}

  start(): void {
    this.unsubscribe = this.o.events.on('recording.ready', (e) => void this.upload(e.channel, e.file));
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private key(channel: string, name: string): string {
    return `recordings/${channel}/${name}`;
  }

  /** Queues the file, then its sidecar (so a listed recording's file is always there). */
  upload(channel: string, mp4: string): Promise<void> {
    const name = basename(mp4);
    return this.o.lanes.add(`recordings/${channel}`, async () => {
      let size: number;
      try {
        size = (await stat(mp4)).size;
      } catch {
        return; // deleted before its turn
      }
      const sidecar = await readSidecar(sidecarPath(mp4));
      if (!sidecar?.complete) return;
      await this.o.bucket.putFile(this.key(channel, name), mp4, size, 'video/mp4');
      await this.o.bucket.put(this.key(channel, basename(sidecarPath(mp4))), JSON.stringify(sidecar), 'application/json');
    });
  }

  /** Queues every complete local recording the store lacks (what a stop or an outage left); run at start. */
  async resync(): Promise<number> {
    let queued = 0;
    let channels: string[];
    try {
      channels = await readdir(this.o.root);
    } catch {
      return 0;
    }
    for (const channel of channels) {
      const names = await readdir(join(this.o.root, channel)).catch(() => [] as string[]);
      const mp4s = names.filter((n) => n.endsWith('.mp4'));
      if (mp4s.length === 0) continue;
      const remote = new Set((await this.o.bucket.list(`recordings/${channel}/`)).objects.map((o) => o.name));
      for (const name of mp4s) {
        if (remote.has(name) && remote.has(basename(sidecarPath(name)))) continue;
        void this.upload(channel, join(this.o.root, channel, name));
        queued++;
      }
    }
    return queued;
  }

  /** The channel's recordings in the store (file: where it would be on this disk, its name). */
  async list(channel: string): Promise<RecordingInfo[]> {
    const listed = await this.o.bucket.list(`recordings/${channel}/`);
    const sizes = new Map(listed.objects.map((o) => [o.name, o.size]));
    const out: RecordingInfo[] = [];
    for (const { name } of listed.objects) {
      if (!name.endsWith('.json')) continue;
      const s = parseSidecar((await this.o.bucket.get(this.key(channel, name)))?.toString('utf8') ?? '');
      const bytes = s && sizes.get(s.file);
      if (!s || bytes === undefined) continue;
      out.push({ channel, file: join(this.o.root, channel, s.file), bytes, durationMs: s.durationMs, startedAt: s.startedAt, endedAt: s.endedAt, complete: s.complete });
    }
    return out;
  }

  open(channel: string, name: string, range?: { start: number; end: number }): ReturnType<Bucket['open']> {
    return this.o.bucket.open(this.key(channel, name), range);
  }

  async remove(channel: string, name: string): Promise<void> {
    await this.o.bucket.delete([this.key(channel, name), this.key(channel, basename(sidecarPath(name)))]);
  }
}
