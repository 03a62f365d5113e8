import { join } from 'node:path';
import { localFiles, type ArchiveFiles } from './archive-files.js';

/** One publish session (publish to unpublish) as the archive lists it. */
export interface ArchiveSession {
  startMs: number;
  /** Undefined while the session is live. */
  endMs?: number;
  /** Times the slate was on air in place of a publisher (no input fit), in order. */
  slates: { startMs: number; endMs: number }[];
}

/**
 * <dataDir>/archive/<channel>/sessions.log: "S <startMs>" when a publish session starts,
 * "E <endMs>" when it ends, "L <startMs> <endMs>" when a time on the slate ended (it belongs to
 * the session open then). A session left without its E line by a crash is closed by recovery
 * with the end of its last archived segment.
 */
export class SessionLog {
  private readonly path: string;
  /** Appends and the retention rewrite run one at a time, so a rewrite never loses an append. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(dir: string, private readonly files: ArchiveFiles = localFiles) {
    this.path = join(dir, 'sessions.log');
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Resolves once every write asked for so far is done (shutdown waits for it). */
  async idle(): Promise<void> {
    await this.chain;
  }

  started(startMs: number): Promise<void> {
    return this.serial(() => this.files.appendText(this.path, `S ${startMs}\n`));
  }

  ended(endMs: number): Promise<void> {
    return this.serial(() => this.files.appendText(this.path, `E ${endMs}\n`));
  }

  /** The slate was on air from startMs to endMs (written when it goes off air). */
  slate(startMs: number, endMs: number): Promise<void> {
    return this.serial(() => this.files.appendText(this.path, `L ${startMs} ${endMs}\n`));
  }

  async list(): Promise<ArchiveSession[]> {
    const text = await this.files.readText(this.path) ?? '';
    const out: ArchiveSession[] = [];
    for (const line of text.split('\n')) {
      const [kind, t, t2] = line.split(' ');
      const ms = Number(t);
      if (!Number.isFinite(ms)) continue;
      const last = out[out.length - 1];
      if (kind === 'S') out.push({ startMs: ms, slates: [] });
      else if (kind === 'E' && last && last.endMs === undefined) last.endMs = ms;
      else if (kind === 'L' && last && Number.isFinite(Number(t2))) last.slates.push({ startMs: ms, endMs: Number(t2) });
    }
    return mergeSessions(out);
  }

  /** Keeps only sessions that end at or after cutoffMs (retention); rewritten atomically. */
  dropBefore(cutoffMs: number): Promise<number> {
    return this.serial(async () => {
      const all = await this.list();
      const kept = all.filter((s) => s.endMs === undefined || s.endMs >= cutoffMs);
      if (kept.length === all.length) return 0;
      const text = kept.map((s) => `S ${s.startMs}\n${s.slates.map((l) => `L ${l.startMs} ${l.endMs}\n`).join('')}${s.endMs !== undefined ? `E ${s.endMs}\n` : ''}`).join('');
      await this.files.writeAtomic(this.path, text);
      return all.length - kept.length;
    });
  }
}

/**
 * The sessions of several origins' logs read one after the other (an archive on object storage,
 * where the channel moved between origins) in time order, each once (the one that knows its end
 * wins). A session left open by an origin that died is over when a later one starts.
 */
function mergeSessions(sessions: ArchiveSession[]): ArchiveSession[] {
  const byStart = new Map<number, ArchiveSession>();
  for (const s of sessions) {
    const known = byStart.get(s.startMs);
    if (!known || (known.endMs === undefined && s.endMs !== undefined)) byStart.set(s.startMs, s);
  }
  const out = [...byStart.values()].sort((a, b) => a.startMs - b.startMs);
  for (let i = 0; i < out.length - 1; i++) if (out[i].endMs === undefined) out[i] = { ...out[i], endMs: out[i + 1].startMs };
  return out;
}
