/**
 * Follows a stream the way a low-latency player does and runs every check on what it gets.
 * From a multivariant URL it loads each media playlist it names, then reloads each one as
 * hls.js does (base-playlist-controller.ts, HJ-10): with CAN-BLOCK-RELOAD, a blocking request
 * for the next part (`_HLS_msn`/`_HLS_part`) or, without parts, the next segment (`_HLS_msn`);
 * otherwise plain polling. Delta updates (`_HLS_skip=YES`) are asked for on demand.
 *
 * Every response is checked on its own (check-media.ts), against the earlier responses of the
 * same playlist (check-reloads.ts), against the other renditions (check-rendition-reports.ts,
 * check-multivariant.ts), and the media it lists is fetched (check-resources.ts).
 */
import { attrNumber, attrText } from './attributes.js';
import { checkMediaPlaylist } from './check-media.js';
import { checkMultivariantPlaylist, checkRenditionSet, type RenditionSnapshot } from './check-multivariant.js';
import { ReloadHistory } from './check-reloads.js';
import { checkRenditionReports, RenditionBoard } from './check-rendition-reports.js';
import { ResourceChecker } from './check-resources.js';
import { excerptAround, type PlaylistLine } from './lines.js';
import { hasParts, lastCompleteSegment, listedParts, readMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import { readMultivariantPlaylist, type NamedPlaylist } from './multivariant-playlist.js';
import { ViolationLog, type ViolationGroup } from './report.js';
import { violation, type Violation } from './rules.js';
import { playlistKey } from './urls.js';

/** How the follower reloads and how much it fetches. */
export interface FollowOptions {
  /** Reloads of each playlist after its first load. */
  reloads: number;
  /**
   * Reloads of the playlists that cannot block (the multivariant playlist, image playlists,
   * ended ones), which are polled; default `reloads`. Lower it when `reloads` is sized for
   * 0.2-s parts and polling would take minutes.
   */
  pollingReloads?: number;
  /** Ask for delta updates never, on every reload, or on every other one (so both kinds get checked). */
  skip?: 'never' | 'always' | 'alternate';
  /**
   * Longest wait between reloads of a playlist that cannot block (no CAN-BLOCK-RELOAD, or
   * ENDLIST). hls.js waits a target duration; a shorter wait only checks more often.
   */
  maxPollIntervalMs?: number;
  /** Complete segments per playlist fetched whole and compared with their parts (0: none). */
  compareSegments?: number;
  /** Fetch the listed media at all (AV-01). */
  checkResources?: boolean;
  /** Added to 3 × TARGETDURATION before a blocking request is abandoned (AV-03). */
  blockingGraceMs?: number;
  /** Pause after a failed request before the plain retry (hls.js retries at once; a pause keeps a broken server from spinning us). */
  retryDelayMs?: number;
}

/** What a follow found, and how much it saw. */
export interface FollowResult {
  /** Violations grouped by rule and playlist; empty when everything conforms. */
  groups: ViolationGroup[];
  /** Distinct violations in all. */
  total: number;
  /** What each playlist (URL without query) got, so a test can show the checks had something to check. */
  playlists: Map<string, PlaylistStats>;
}

/** Counts for one playlist of a follow. */
export interface PlaylistStats {
  /** 200 responses, the first load included. */
  responses: number;
  /** Responses to blocking requests (_HLS_msn). */
  blocking: number;
  /** Delta updates that skipped at least one segment. */
  deltaUpdates: number;
  /** Parts listed in the last response. */
  parts: number;
}

/** The blocking-reload directives of one request (§6.2.5.2). */
interface Directives {
  msn: number;
  part?: number;
}

interface Shared {
  options: Required<FollowOptions>;
  log: ViolationLog;
  resources: ResourceChecker;
  board: RenditionBoard;
  playlists: Map<string, PlaylistStats>;
  /** The rendition set, when following a multivariant playlist (for RR-06 and RR-04). */
  renditions?: { all: string[]; optional: string[] };
}

const DEFAULTS: Omit<Required<FollowOptions>, 'pollingReloads'> = {
  reloads: 10, skip: 'alternate', maxPollIntervalMs: 1000, compareSegments: 2, checkResources: true, blockingGraceMs: 2000, retryDelayMs: 500,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Adds the response's lines around each violation's line (unless a check already gave the excerpt of an earlier response). */
function withExcerpts(violations: Violation[], lines: readonly PlaylistLine[]): Violation[] {
  return violations.map((v) => (v.line === undefined || v.excerpt !== undefined ? v : { ...v, excerpt: excerptAround(lines, v.line) }));
}

/** The URL with its own _HLS_ directives removed, then the given ones appended in the order of §6.3.2 (DD-02). */
function requestUrl(base: string, d: Directives | undefined, skip: boolean): string {
  const u = new URL(base);
  for (const k of [...u.searchParams.keys()]) if (k.startsWith('_HLS_')) u.searchParams.delete(k);
  if (d) {
    u.searchParams.append('_HLS_msn', String(d.msn));
    if (d.part !== undefined) u.searchParams.append('_HLS_part', String(d.part));
  }
  if (skip) u.searchParams.append('_HLS_skip', 'YES');
  return u.href;
}

/** Whether a response holds what a blocking request asked for: part N of M or later, or segment M (§6.2.5.2). */
function holdsRequested(pl: MediaPlaylist, d: Directives): boolean {
  if (d.part === undefined) return (lastCompleteSegment(pl)?.msn ?? -Infinity) >= d.msn;
  return listedParts(pl).some((p) => p.msn > d.msn || (p.msn === d.msn && p.index >= d.part!))
    || (lastCompleteSegment(pl)?.msn ?? -Infinity) > d.msn;
}

/** Whether a client may send blocking requests for this playlist (§6.2.5.2, SC-01). */
function canBlock(pl: MediaPlaylist): boolean {
  return !pl.endList && attrText(pl.serverControl, 'CAN-BLOCK-RELOAD') === 'YES';
}

/** One media playlist, loaded and reloaded. */
class PlaylistFollower {
  private readonly history = new ReloadHistory();
  first: MediaPlaylist | undefined;
  private last: MediaPlaylist | undefined;
  private successes = 0;
  /** The last request failed: the next one goes without directives, as hls.js retries (HJ-14). */
  private failed = false;

  constructor(readonly url: string, readonly kind: NamedPlaylist['kind'] | 'media', private readonly shared: Shared) {}

  /** First load (plain request), retried a few times: a playlist that is named must answer. */
  async start(): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.load(undefined, false)) return true;
      await sleep(this.shared.options.retryDelayMs);
    }
    return false;
  }

  /** The reloads, hls.js style, until `reloads` of them succeeded (or twice as many were tried). */
  async follow(): Promise<void> {
    const { options } = this.shared;
    const reloads = this.last && !canBlock(this.last) ? options.pollingReloads : options.reloads;
    for (let n = 1, attempts = 0; this.successes <= reloads && attempts < 2 * reloads + 5; attempts++) {
      const next = this.failed ? { skip: false, waitMs: this.shared.options.retryDelayMs } : this.nextRequest(n);
      if (next.waitMs > 0) await sleep(next.waitMs);
      this.failed = !(await this.load(next.directives, next.skip));
      if (!this.failed) n++;
    }
  }

  /** What hls.js would ask for next (HJ-10, HJ-12, HJ-17). */
  private nextRequest(n: number): { directives?: Directives; skip: boolean; waitMs: number } {
    // n counts successful reloads, so 'alternate' asks for a delta on every other one.
    const pl = this.last;
    const { options } = this.shared;
    if (!pl) return { skip: false, waitMs: 0 };
    const canSkip = attrNumber(pl.serverControl, 'CAN-SKIP-UNTIL') !== undefined && !pl.endList;
    const skip = canSkip && (options.skip === 'always' || (options.skip === 'alternate' && n % 2 === 1));
    const pollMs = Math.min((pl.targetDuration ?? 1) * 1000, options.maxPollIntervalMs);
    if (!canBlock(pl)) return { skip: false, waitMs: pollMs };
    const parts = listedParts(pl);
    const lastPart = parts[parts.length - 1];
    const lastComplete = lastCompleteSegment(pl);
    if (hasParts(pl) && lastPart) {
      const parentOpen = pl.segments[pl.segments.length - 1].msn === lastPart.msn && !pl.segments[pl.segments.length - 1].complete;
      const directives = parentOpen ? { msn: lastPart.msn, part: lastPart.index + 1 } : { msn: lastPart.msn + 1, part: 0 };
      return { directives, skip, waitMs: 0 };
    }
    if (lastComplete) return { directives: { msn: lastComplete.msn + 1 }, skip, waitMs: 0 };
    return { skip, waitMs: pollMs };
  }

  /** One request; checks the response. Resolves whether it was a usable 200. */
  private async load(directives: Directives | undefined, skip: boolean): Promise<boolean> {
    const { log, options } = this.shared;
    const url = requestUrl(this.url, directives, skip);
    const blocking = directives !== undefined;
    const td = this.last?.targetDuration ?? 6;
    const timeoutMs = blocking ? 3 * td * 1000 + options.blockingGraceMs : 15_000;
    const sentAt = performance.now();
    let status: number, text: string;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      status = r.status;
      text = await r.text();
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      log.add([timedOut && blocking
        ? violation('AV-03', url, `no answer to the blocking request within 3 × TARGETDURATION + ${options.blockingGraceMs} ms`)
        : violation('HJ-15', url, `request failed: ${(err as Error).message}`)]);
      return false;
    }
    const receivedAt = performance.now();
    if (status !== 200) {
      log.add([status === 503 && blocking
        ? violation('AV-03', url, `503 after ${Math.round(receivedAt - sentAt)} ms: the requested part or segment did not come within 3 × TARGETDURATION`)
        : violation('HJ-15', url, `answers ${status}: ${text.slice(0, 200)}`)]);
      return false;
    }
    const pl = readMediaPlaylist(text);
    const found: Violation[] = [...checkMediaPlaylist(pl, url), ...this.history.add(pl, text, url)];
    if (directives && !pl.endList && !holdsRequested(pl, directives)) {
      found.push(violation('HJ-13', url, `answered after ${Math.round(receivedAt - sentAt)} ms without ${directives.part === undefined ? `segment ${directives.msn}` : `part ${directives.msn}.${directives.part}`} or anything later`));
    }
    const reports = this.shared.renditions;
    if (reports && (this.kind === 'variant' || this.kind === 'rendition')) {
      found.push(...checkRenditionReports(pl, url, { renditions: reports.all, optional: reports.optional, board: this.shared.board, sentAt }));
    }
    log.add(withExcerpts(found, pl.lines));
    this.shared.board.record(playlistKey(this.url), pl, receivedAt);
    if (options.checkResources) this.shared.resources.schedule(pl, url);
    const stats = statsOf(this.shared, this.url);
    stats.responses++;
    if (directives) stats.blocking++;
    if ((pl.skip?.skippedSegments ?? 0) > 0) stats.deltaUpdates++;
    stats.parts = listedParts(pl).length;
    this.first ??= pl;
    this.last = pl;
    this.successes++;
    return true;
  }
}

function statsOf(shared: Shared, url: string): PlaylistStats {
  const key = playlistKey(url);
  let stats = shared.playlists.get(key);
  if (!stats) shared.playlists.set(key, stats = { responses: 0, blocking: 0, deltaUpdates: 0, parts: 0 });
  return stats;
}

function sharedState(options: FollowOptions): Shared {
  const full = { ...DEFAULTS, pollingReloads: options.reloads, ...options };
  const log = new ViolationLog();
  return {
    options: full, log, board: new RenditionBoard(), playlists: new Map(),
    resources: new ResourceChecker({ compareSegments: full.compareSegments, concurrency: 4 }, (v) => log.add([v])),
  };
}

async function finish(shared: Shared): Promise<FollowResult> {
  await shared.resources.drain();
  return { groups: shared.log.list(), total: shared.log.total, playlists: shared.playlists };
}

/** Follows one media playlist on its own (a catchup playlist, say): every rule but the cross-rendition ones. */
export async function followMediaPlaylist(url: string, options: FollowOptions): Promise<FollowResult> {
  const shared = sharedState(options);
  const follower = new PlaylistFollower(url, 'media', shared);
  if (await follower.start()) await follower.follow();
  return finish(shared);
}

/** Follows every playlist a multivariant playlist names, side by side, and the multivariant playlist itself. */
export async function followMultivariant(url: string, options: FollowOptions): Promise<FollowResult> {
  const shared = sharedState(options);
  const { log } = shared;
  const loadMultivariant = async () => {
    const r = await fetch(url);
    const text = await r.text();
    if (r.status !== 200) {
      log.add([violation('HJ-15', url, `answers ${r.status}: ${text.slice(0, 200)}`)]);
      return undefined;
    }
    const mv = readMultivariantPlaylist(text);
    log.add(withExcerpts(checkMultivariantPlaylist(mv, url), mv.lines));
    statsOf(shared, url).responses++;
    return mv;
  };
  const mv = await loadMultivariant();
  if (!mv) return finish(shared);

  const byUrl = new Map<string, PlaylistFollower>();
  for (const p of mv.playlists) {
    if (p.uri === undefined) continue;
    const media = new URL(p.uri, url).href;
    if (!byUrl.has(media)) byUrl.set(media, new PlaylistFollower(media, p.kind, shared));
  }
  const followers = [...byUrl.values()];
  const keysOf = (kinds: string[]) => followers.filter((f) => kinds.includes(f.kind)).map((f) => playlistKey(f.url));
  shared.renditions = { all: keysOf(['variant', 'rendition']), optional: keysOf(['i-frame']) };

  const started = await Promise.all(followers.map((f) => f.start()));
  const reloadMultivariant = async () => {
    for (let i = 0; i < shared.options.pollingReloads; i++) {
      await sleep(shared.options.maxPollIntervalMs);
      await loadMultivariant();
    }
  };
  await Promise.all([...followers.filter((_, i) => started[i]).map((f) => f.follow()), reloadMultivariant()]);

  const snapshots = (kinds: string[]): RenditionSnapshot[] => followers.filter((f) => f.first && kinds.includes(f.kind))
    .map((f) => ({ url: f.url, playlist: f.first! }));
  log.add(checkRenditionSet(snapshots(['variant', 'rendition']), url, snapshots(['image'])));
  return finish(shared);
}
