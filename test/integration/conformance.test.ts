/**
 * Issue 15, point 2: a conformance test that cannot be tuned away. Real ffmpeg publishers of
 * every kind (test/helpers/publisher-kinds.ts) feed a real origin in each latency mode; an
 * independent checker (test/helpers/conformance/) follows every playlist the way hls.js does,
 * at least ten reloads each, and checks every response against the HLS / LL-HLS rules, across
 * reloads, across renditions, and the media it lists. It asserts that nothing is broken and
 * prints what is, rule by rule with playlist excerpts.
 *
 * Covered: per kind × mode (ultra-low, low, normal) the multivariant and media playlists, and
 * the image playlist of previews for two kinds (1 s and irregular keyframes); an ABR ladder
 * with thumbnails (rung playlists, rendition reports, the image playlist); catchup playlists of
 * the archive (EVENT while live; VOD, single and multivariant).
 *
 * CPU: the kinds are encoded once (and kept between runs, publisher-kinds.ts), then published
 * with stream copy; normal mode, which needs a minute for ten 6-s segments, runs beside
 * ultra-low and then low, one origin per mode. CONFORMANCE_REPORT=file.json writes the findings.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { stopPublisher } from '../helpers/ffmpeg.js';
import { encodeKinds, LADDER_SOURCE, PUBLISHER_KINDS, startLoopPublisher } from '../helpers/publisher-kinds.js';
import { followMediaPlaylist, followMultivariant, type FollowOptions, type FollowResult } from '../helpers/conformance/follower.js';
import { formatViolations } from '../helpers/conformance/report.js';

type Mode = 'ultra-low' | 'low' | 'normal';

/** Reloads per playlist: ~20 s of 0.2-s parts (deltas start once 12 s of stream lie behind), ~20 s of 2-s and ~60 s of 6-s segments. */
const RELOADS: Record<Mode, number> = { 'ultra-low': 100, low: 10, normal: 10 };
/** Reloads of what is polled once a second (multivariant and image playlists): the 10 asked of every playlist. */
const MIN_RELOADS = 10;
const FOLLOW: FollowOptions = { reloads: MIN_RELOADS, pollingReloads: MIN_RELOADS, skip: 'alternate', maxPollIntervalMs: 1000, compareSegments: 2 };

interface ChannelPlan {
  id: string;
  /** The file to publish in a loop. */
  kind: string;
  reloads: number;
  config: Record<string, unknown>;
  /** Variants (and whether an image playlist) the multivariant playlist lists once everything runs. */
  variants: number;
  images: boolean;
}

interface Outcome {
  label: string;
  result: FollowResult;
  /** Reloads every playlist of it got at least. */
  reloads: number;
}

/** Scrubbing previews: the image playlist, a tile per segment, followed like the media playlists. Small sheets (3 × 2 tiles of 2 s). */
const PREVIEWS = { thumbnails: { enabled: true, preview: { enabled: true, intervalSec: 2, tileWidth: 160, columns: 3, rows: 2 } } };

/** Kinds whose channel has previews in every mode: steady 1 s keyframes, and irregular ones (tiles spaced unevenly, some past the target duration). */
const WITH_PREVIEWS = new Set(['v720p30-gop1s', 'irregular-gop']);

const LADDER: Omit<ChannelPlan, 'reloads'> = {
  id: 'ladder', kind: LADDER_SOURCE.id, variants: 3, images: true,
  config: { transcode: { rungs: ['240p', '160p'] }, ...PREVIEWS },
};

/** Waits until the channel's multivariant playlist lists what it will list and each variant has a complete segment. */
async function waitLive(o: RunningOrigin, plan: ChannelPlan): Promise<void> {
  const base = `${o.http}/live/${plan.id}/`;
  await waitUntil(async () => {
    const r = await fetch(`${base}index.m3u8`);
    if (r.status !== 200) return false;
    const text = await r.text();
    const variants = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    if (variants.length < plan.variants || (plan.images && !text.includes('#EXT-X-IMAGE-STREAM-INF'))) return false;
    const media = await Promise.all(variants.map(async (v) => (await fetch(base + v)).text()));
    return media.every((m) => m.includes('#EXTINF'));
  }, 40_000, `channel ${plan.id} live`, 250);
}

/** Epoch seconds. */
const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * One origin with every plan's channel in one mode: publish, wait until live, follow all at
 * once; for the channels in `catchupOf`, also their catchup playlists: a range reaching into
 * the future while they are live (EVENT, growing), then a closed range (VOD, ENDLIST).
 */
async function runMode(mode: Mode, plans: ChannelPlan[], files: Map<string, string>, catchupOf: string[] = []): Promise<Outcome[]> {
  const o = await startOrigin({
    thumbnails: { enabled: false },
    // The ladder's rung encoders must keep up while CI runs another test file beside this one: an
    // encoder that falls behind drops frames, and a part spanning the hole exceeds PART-TARGET.
    transcode: { preset: 'ultrafast' },
    channels: plans.map((p) => ({ id: p.id, streamKey: `${p.id}-key-123`, latencyMode: mode, ...p.config })),
  });
  const publishers: ChildProcess[] = [];
  try {
    const startedSec = nowSec();
    for (const p of plans) publishers.push(startLoopPublisher(files.get(p.kind)!, o.rtmp(`${p.id}-key-123`)));
    await Promise.all(plans.map((p) => waitLive(o, p)));
    const live = plans.map(async (p): Promise<Outcome> => ({
      label: `${p.id} / ${mode}`, reloads: MIN_RELOADS,
      result: await followMultivariant(`${o.http}/live/${p.id}/index.m3u8`, { ...FOLLOW, reloads: p.reloads }),
    }));
    const growing = catchupOf.map(async (id): Promise<Outcome> => ({
      label: `${id} catchup EVENT playlist / ${mode}`, reloads: MIN_RELOADS,
      result: await followMediaPlaylist(`${o.http}/live/${id}/archive/${startedSec - 2}-${nowSec() + 600}.m3u8`, FOLLOW),
    }));
    const outcomes = await Promise.all([...live, ...growing]);
    const closed = `${startedSec - 2}-${nowSec() - 3}`;
    const vod = { ...FOLLOW, maxPollIntervalMs: 100 };
    for (const id of catchupOf) {
      outcomes.push({ label: `${id} catchup VOD playlist / ${mode}`, reloads: MIN_RELOADS, result: await followMediaPlaylist(`${o.http}/live/${id}/archive/${closed}.m3u8`, vod) });
      outcomes.push({ label: `${id} catchup VOD multivariant / ${mode}`, reloads: MIN_RELOADS, result: await followMultivariant(`${o.http}/live/${id}/archive/${closed}/index.m3u8`, vod) });
    }
    return outcomes;
  } finally {
    await Promise.all(publishers.map((p) => stopPublisher(p)));
    await o.close();
  }
}

function plansFor(mode: Mode, withLadder: boolean): ChannelPlan[] {
  const plans: ChannelPlan[] = PUBLISHER_KINDS.map((k) => {
    const images = WITH_PREVIEWS.has(k.id);
    return { id: k.id, kind: k.id, reloads: RELOADS[mode], config: images ? PREVIEWS : {}, variants: 1, images };
  });
  if (withLadder) plans.push({ ...LADDER, reloads: RELOADS[mode] });
  return plans;
}

t.test('every playlist of every publisher kind in every latency mode conforms', async (t) => {
  const started = Date.now();
  const files = await encodeKinds([...PUBLISHER_KINDS, LADDER_SOURCE]);
  t.comment(`publisher files ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const [normal, others] = await Promise.all([
    runMode('normal', plansFor('normal', false), files),
    (async () => [
      ...await runMode('ultra-low', plansFor('ultra-low', true), files, ['ladder', 'v720p30-gop1s', 'irregular-gop']),
      ...await runMode('low', plansFor('low', false), files),
    ])(),
  ]);
  const outcomes = [...others, ...normal];
  t.comment(`followed ${outcomes.length} streams in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (process.env.CONFORMANCE_REPORT) {
    writeFileSync(process.env.CONFORMANCE_REPORT, JSON.stringify(outcomes.map((o) => ({ label: o.label, total: o.result.total, groups: o.result.groups, playlists: [...o.result.playlists] })), null, 2));
  }
  t.comment(`summary:\n${outcomes.map((o) => `  ${o.label}: ${o.result.total === 0 ? 'conforms' : o.result.groups.map((g) => `${g.rule}×${g.count} (${new URL(g.playlist).pathname.split('/').pop()})`).join(', ')}`).join('\n')}`);

  for (const o of outcomes) {
    t.test(o.label, async (t) => {
      for (const [playlist, stats] of o.result.playlists) {
        const path = new URL(playlist).pathname;
        t.ok(stats.responses >= o.reloads + 1, `${path}: ${stats.responses - 1} reloads after the first load (≥ ${o.reloads})`);
        // A live playlist reloaded by blocking requests must also have been seen as a delta
        // update, or the delta-update rules were never exercised.
        if (stats.blocking > 0) t.ok(stats.deltaUpdates > 0, `${path}: ${stats.blocking} blocking reloads, ${stats.deltaUpdates} delta updates that skipped segments`);
      }
      // tap folds an assertion's message onto one line: the report goes out as a comment.
      if (o.result.total > 0) t.comment(`${o.label}: violations\n${formatViolations(o.result.groups)}`);
      t.equal(o.result.total, 0, 'no violations (any are listed above)');
    });
  }
});
