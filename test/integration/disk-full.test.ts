/**
 * A full disk, for real: the origin's dataDir lives on a small tmpfs that a filler file brings
 * to just above storage.minFreeMb; ffmpeg publishes over RTMP and the archive pushes free space
 * below the threshold. While the disk is low, archiving stops (storage.low) and live delivery
 * goes on from memory; deleting the filler brings space back (storage.ok), archiving resumes,
 * and the catchup playlist marks the hole with EXT-X-DISCONTINUITY.
 *
 * Needs root (mount). Measured numbers are printed as TAP comments.
 */
import t from 'tap';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { ArchiveReader } from '../../src/store/archive/archive-reader.js';
import type { OriginEvents } from '../../src/events.js';
import { testNeeding } from '../helpers/ci.js';
import { freeBytes, mountTmpfs, unmount } from '../helpers/tmpfs.js';

const MB = 1024 * 1024;
const TMPFS_MB = 24;
const MIN_FREE_MB = 8;
const RESUME_MARGIN_MB = 2;
/** Free space left above the threshold when streaming starts: a few seconds of the stream. */
const HEADROOM_BYTES = 1.5 * MB;
const HOT_EDGE_MS = 6000;

async function get(url: string): Promise<{ status: number; text: string; bytes: number }> {
  const r = await fetch(url);
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, text: body.toString('utf8'), bytes: body.length };
}

/** The msns of every indexed segment of the archive (all hour directories), in order. */
async function archivedMsns(reader: ArchiveReader): Promise<number[]> {
  const out: number[] = [];
  for (const h of await reader.hours()) for (const s of await reader.hour(h)) out.push(s.msn);
  return out;
}

const mount = mountTmpfs(TMPFS_MB, 'sigma-diskfull-');

testNeeding(t, 'disk full: archiving pauses with storage.low, live delivery goes on, storage.ok resumes it', 'skip' in mount ? mount.skip : undefined, async (t) => {
  if (!('dir' in mount)) return;
  let o: RunningOrigin | undefined;
  let pub: ReturnType<typeof startPublisher> | undefined;
  t.teardown(async () => {
    try {
      if (pub) await stopPublisher(pub);
      await o?.close();
    } finally {
      unmount(mount.dir);
    }
  });
  const dataDir = join(mount.dir, 'data');
  mkdirSync(dataDir);
  const filler = join(mount.dir, 'filler.bin');
  writeFileSync(filler, Buffer.alloc(freeBytes(mount.dir) - MIN_FREE_MB * MB - HEADROOM_BYTES, 0x5a));
  t.comment(`tmpfs ${TMPFS_MB} MB, ${(freeBytes(mount.dir) / MB).toFixed(1)} MB free after the filler, threshold ${MIN_FREE_MB} MB`);

  o = await startOrigin({
    dataDir,
    storage: { minFreeMb: MIN_FREE_MB, resumeMarginMb: RESUME_MARGIN_MB, checkIntervalSec: 0.2 },
    latencyModes: { 'ultra-low': { segmentTargetSec: 1, partTargetSec: 0.2, playlistWindowSec: HOT_EDGE_MS / 1000 } },
    dvr: { windowSec: 120 },
  });
  const events: { name: keyof OriginEvents; at: number; payload: unknown }[] = [];
  for (const name of ['storage.low', 'storage.ok', 'channel.error'] as const) {
    o.origin.events.on(name, (payload) => events.push({ name, at: Date.now(), payload }));
  }
  const reader = new ArchiveReader(join(dataDir, 'archive', 'demo', 'source'));
  const live = `${o.http}/live/demo/`;
  const playlist = async () => parseM3u8((await get(`${live}source.m3u8`)).text).manifest;
  /** The newest part: its segment's msn and index. */
  const edge = (m: any) => ({
    msn: m.mediaSequence + m.segments.length,
    part: (m.preloadSegment?.parts?.length ?? 0) - 1,
  });

  const published = Date.now();
  // 640x360 keeps the encoder real-time on a busy 2-core machine; ≈0.35 MB/s of media.
  pub = startPublisher(o.rtmp('demo-key-123'), { width: 640, height: 360, fps: 30, gop: 30, videoBitrate: '3M' });

  /** Waits for an origin event; a timeout says what the publisher was doing (it may have died). */
  const event = (name: keyof OriginEvents, timeoutMs: number) => waitUntil(() => events.find((e) => e.name === name), timeoutMs, name)
    .catch((err: Error) => {
      const state = pub!.exitCode === null && pub!.signalCode === null ? 'still running' : `exited (${pub!.exitCode ?? pub!.signalCode})`;
      throw new Error(`${err.message}; the publisher is ${state}: ${pub!.stderrText().slice(-400)}`);
    });
  const low = await event('storage.low', 45_000);
  t.comment(`storage.low ${((low.at - published) / 1000).toFixed(1)} s after publishing: ${JSON.stringify(low.payload)}`);
  t.match(low.payload, { dataDir, minFreeBytes: MIN_FREE_MB * MB });
  t.ok((low.payload as OriginEvents['storage.low']).freeBytes < MIN_FREE_MB * MB, 'free space is below the threshold');
  const beforeLow = await archivedMsns(reader);
  t.ok(beforeLow.length > 0, `${beforeLow.length} segments archived before the disk ran low`);

  await t.test('while the disk is low: the live playlist advances, blocking reload answers, segments serve; the archive stands still', async (t) => {
    // The segment open when the gate closed may still be indexed; after it, nothing is.
    await new Promise((r) => setTimeout(r, 2500));
    const frozen = await archivedMsns(reader);
    const start = edge(await playlist());

    // Keep at it until segments made while the disk is low have left the hot edge (RAM, one
    // playlist window): that is where the window must drop them rather than serve nothing.
    let rounds = 0;
    for (; rounds < 3 || Date.now() - low.at < HOT_EDGE_MS + 4000; rounds++) {
      const m = await playlist();
      const { msn, part } = edge(m);
      const asked = Date.now();
      const r = await get(`${live}source.m3u8?_HLS_msn=${msn}&_HLS_part=${part + 1}`);
      const waited = Date.now() - asked;
      t.equal(r.status, 200, `blocking reload for ${msn}.${part + 1} answered`);
      t.ok(waited < 5000, `after ${waited} ms`);
      const next = edge(parseM3u8(r.text).manifest);
      t.ok(next.msn > msn || next.part > part, `the awaited part is in the answer (${next.msn}.${next.part})`);
      const listed = parseM3u8(r.text).manifest.segments as { uri: string }[];
      t.ok(listed.length > 0, 'segments listed');
      for (const s of listed) {
        const seg = await get(new URL(s.uri, live).href);
        t.equal(seg.status, 200, `${s.uri} served`);
        t.ok(seg.bytes > 1000, `${s.uri}: ${seg.bytes} bytes`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const last = await playlist();
    const end = edge(last);
    t.comment(`${rounds} rounds in ${((Date.now() - low.at) / 1000).toFixed(1)} s of low disk; the live playlist lists ` +
      `${last.segments.length} segments from ${last.mediaSequence}, the archive stopped at ${frozen[frozen.length - 1]}`);
    t.ok(end.msn >= start.msn + 5, `the live edge moved from ${start.msn} to ${end.msn} while the disk was low`);
    t.same(await archivedMsns(reader), frozen, 'nothing archived while the disk is low');
    t.equal(pub!.exitCode, null, 'the publisher was never disconnected');
    t.notOk(events.some((e) => e.name === 'storage.ok'), 'no storage.ok while the disk is still low');
  });

  await t.test('space comes back: storage.ok, archiving resumes, the catchup playlist marks the hole', async (t) => {
    const lastBefore = Math.max(...await archivedMsns(reader));
    unlinkSync(filler);
    const freed = Date.now();
    const ok = await event('storage.ok', 10_000);
    t.comment(`storage.ok ${ok.at - freed} ms after deleting the filler: ${JSON.stringify(ok.payload)}`);
    t.ok((ok.payload as OriginEvents['storage.ok']).freeBytes >= (MIN_FREE_MB + RESUME_MARGIN_MB) * MB);

    const resumed = await waitUntil(async () => {
      const after = (await archivedMsns(reader)).filter((m) => m > lastBefore);
      return after.length >= 3 ? after : undefined;
    }, 20_000, 'three segments archived after storage.ok');
    const hole = resumed[0] - lastBefore - 1;
    t.ok(hole >= 3, `a hole of ${hole} segments (${lastBefore + 1}..${resumed[0] - 1}) left out of the archive`);
    t.same(resumed, resumed.map((_, i) => resumed[0] + i), 'archived without gaps since');
    t.comment(`archive: ${lastBefore} before the hole, ${hole} segments missing, resumed at ${resumed[0]} ` +
      `(${((Date.now() - published) / 1000).toFixed(1)} s since publishing)`);

    const first = (await reader.hour((await reader.hours())[0]))[0];
    const from = Math.floor(first.programDateTimeMs / 1000);
    const to = Math.ceil(Date.now() / 1000) + 1;
    const catchupUrl = `${live}archive/${from}-${to}.m3u8`;
    const catchup = await get(catchupUrl);
    t.equal(catchup.status, 200, catchupUrl);
    const { manifest, warnings } = parseM3u8(catchup.text);
    t.same(warnings, []);
    const segs = manifest.segments as { uri: string; discontinuity?: boolean; map?: { uri: string } }[];
    const msnOf = (uri: string) => Number(/(\d+)\.m4s/.exec(uri)![1]);
    const breaks = segs.filter((s) => s.discontinuity).map((s) => msnOf(s.uri));
    t.same(breaks, [resumed[0]], 'one EXT-X-DISCONTINUITY, at the first segment after the hole');
    t.ok(segs.some((s) => msnOf(s.uri) === lastBefore), 'the segment before the hole is listed');
    t.notOk(segs.some((s) => msnOf(s.uri) > lastBefore && msnOf(s.uri) < resumed[0]), 'nothing of the hole is listed');
    const base = catchupUrl;
    const maps = new Set(segs.map((s) => s.map?.uri).filter((u): u is string => !!u));
    for (const u of maps) t.equal((await get(new URL(u, base).href)).status, 200, `init ${u} served`);
    let served = 0;
    for (const s of segs) {
      const r = await get(new URL(s.uri, base).href);
      if (r.status === 200 && r.bytes > 1000) served++;
      else t.fail(`${s.uri}: ${r.status}, ${r.bytes} bytes`);
    }
    t.equal(served, segs.length, `all ${segs.length} catchup segments served`);
    t.equal(events.filter((e) => e.name === 'storage.low').length, 1, 'one storage.low, no flapping');
    t.equal(pub!.exitCode, null, 'the publisher is still on');
    const errors = events.filter((e) => e.name === 'channel.error');
    if (errors.length) t.comment(`channel.error events: ${JSON.stringify(errors.map((e) => e.payload))}`);
  });
});
