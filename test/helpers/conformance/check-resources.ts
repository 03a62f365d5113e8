/**
 * The media a playlist lists must be there (AV-01): every segment, part and init section
 * named in a response answers 200 with a body. Each URI is asked once (HEAD; GET where the
 * length is not announced). A few complete segments whose parts are listed are also fetched
 * whole and compared with their parts back to back (PT-09: the same media; this origin serves
 * a segment as exactly its parts' bytes). Preload hints are not fetched: the server holds those
 * requests until the part exists.
 */
import type { PlaylistLine } from './lines.js';
import type { MediaPlaylist } from './media-playlist.js';
import { violation, type Violation } from './rules.js';
import { playlistKey } from './urls.js';

/** How much the resource checks fetch. */
export interface ResourceCheckOptions {
  /** Complete segments per playlist fetched whole and compared with their parts. */
  compareSegments: number;
  /** Requests in flight at once. */
  concurrency: number;
}

interface Job {
  run: () => Promise<void>;
  /** For the report when the request itself fails. */
  playlistUrl: string;
  what: string;
  line: PlaylistLine | undefined;
}

/** Queues and runs the resource checks of responses, each URI once; findings go to `report`. */
export class ResourceChecker {
  private readonly asked = new Set<string>();
  private readonly comparedPerPlaylist = new Map<string, number[]>();
  private readonly queue: Job[] = [];
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly options: ResourceCheckOptions, private readonly report: (v: Violation) => void) {}

  /** Queues the checks for what this response lists that was not checked before. */
  schedule(pl: MediaPlaylist, playlistUrl: string): void {
    const compare = this.pickForComparison(pl, playlistUrl);
    const comparing = new Set(compare.map((s) => s.msn));
    for (const seg of pl.segments) {
      if (seg.map?.uri !== undefined) this.head(seg.map.uri, seg.map.line, playlistUrl);
      if (comparing.has(seg.msn)) continue;
      // GAP=YES parts and EXT-X-GAP segments have no media: a client must not load them (§4.4.4.7).
      for (const p of seg.parts) if (p.uri !== undefined && !p.gap) this.head(p.uri, p.line, playlistUrl);
      if (seg.complete && !isGap(seg)) this.head(seg.uri!, seg.uriLine!, playlistUrl);
    }
    for (const seg of compare) this.enqueue({ run: () => this.compareWithParts(seg, playlistUrl), playlistUrl, what: `segment ${seg.uri}`, line: seg.uriLine });
  }

  /** Resolves once every queued check has finished. */
  async drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Up to `compareSegments` complete segments with all their parts listed, at least 3 MSNs apart. */
  private pickForComparison(pl: MediaPlaylist, playlistUrl: string): MediaPlaylist['segments'] {
    const key = playlistKey(playlistUrl);
    const done = this.comparedPerPlaylist.get(key) ?? [];
    const picked: MediaPlaylist['segments'] = [];
    for (const seg of pl.segments) {
      if (done.length >= this.options.compareSegments) break;
      if (!seg.complete || seg.parts.length === 0 || isGap(seg) || seg.parts.some((p) => p.gap) || done.some((msn) => Math.abs(msn - seg.msn) < 3)) continue;
      done.push(seg.msn);
      picked.push(seg);
    }
    this.comparedPerPlaylist.set(key, done);
    return picked;
  }

  private head(uri: string, line: PlaylistLine, playlistUrl: string): void {
    const url = new URL(uri, playlistUrl).href;
    if (this.asked.has(url)) return;
    this.asked.add(url);
    const run = async () => {
      const r = await fetch(url, { method: 'HEAD' });
      const length = r.headers.get('content-length');
      if (r.status !== 200) this.report(violation('AV-01', playlistUrl, `${url} answers ${r.status}`, line));
      else if (length === null) await this.get(url, line, playlistUrl);
      else if (Number(length) === 0) this.report(violation('AV-01', playlistUrl, `${url} is empty`, line));
    };
    this.enqueue({ run, playlistUrl, what: url, line });
  }

  private async get(url: string, line: PlaylistLine, playlistUrl: string): Promise<Buffer | undefined> {
    const r = await fetch(url);
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) this.report(violation('AV-01', playlistUrl, `${url} answers ${r.status}`, line));
    else if (body.length === 0) this.report(violation('AV-01', playlistUrl, `${url} is empty`, line));
    return r.status === 200 ? body : undefined;
  }

  private async compareWithParts(seg: MediaPlaylist['segments'][number], playlistUrl: string): Promise<void> {
    const segmentUrl = new URL(seg.uri!, playlistUrl).href;
    this.asked.add(segmentUrl);
    const whole = await this.get(segmentUrl, seg.uriLine!, playlistUrl);
    const parts: Buffer[] = [];
    for (const p of seg.parts) {
      const partUrl = new URL(p.uri!, playlistUrl).href;
      this.asked.add(partUrl);
      const body = await this.get(partUrl, p.line, playlistUrl);
      if (!body) return;
      parts.push(body);
    }
    if (whole && !whole.equals(Buffer.concat(parts))) {
      const joined = parts.reduce((n, b) => n + b.length, 0);
      this.report(violation('PT-09', playlistUrl, `MSN ${seg.msn}: the segment's ${whole.length} bytes are not its ${seg.parts.length} parts' ${joined} bytes back to back`, seg.uriLine));
    }
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      job.run().catch((err: unknown) => this.report(violation('AV-01', job.playlistUrl, `${job.what}: request failed: ${(err as Error).message}`, job.line)))
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }
}

/** A segment marked EXT-X-GAP. */
function isGap(seg: MediaPlaylist['segments'][number]): boolean {
  return seg.tags.some((l) => l.tag === 'EXT-X-GAP');
}
