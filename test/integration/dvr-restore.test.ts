import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';

/**
 * Issue 15: the DVR window a restart restores equals the live window it replaces. Three publish
 * sessions: the first ends (its playlist ends and is dropped), the second starts a new playlist,
 * the third reconnects within the reconnect window (a discontinuity in the same playlist). The
 * origin restarts on the same data directory, then again in another latency mode. Each restored
 * playlist must list the same segments as the live one (no older session, no jump in numbering,
 * the same discontinuities and DISCONTINUITY-SEQUENCE), and every listed URI must serve exactly
 * the bytes the live origin served for it.
 */

const KEY = 'restore-key-123';
const channel = (latencyMode: string) => ({ id: 'dvr', streamKey: KEY, latencyMode });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A media playlist read line by line: each segment with its MSN, URI, tags and PDT. */
interface Listed { msn: number; uri: string; discontinuity: boolean; pdt: string | undefined; extinf: number }

function listSegments(text: string): { segments: Listed[]; mediaSequence: number; discontinuitySequence: number; targetDuration: number } {
  const lines = text.split('\n');
  const num = (tag: string) => Number(lines.find((l) => l.startsWith(tag))?.slice(tag.length));
  const mediaSequence = num('#EXT-X-MEDIA-SEQUENCE:');
  const segments: Listed[] = [];
  let pending: Partial<Listed> = {};
  for (const l of lines) {
    if (l === '#EXT-X-DISCONTINUITY') pending.discontinuity = true;
    else if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pending.pdt = l.slice(25);
    else if (l.startsWith('#EXTINF:')) pending.extinf = parseFloat(l.slice(8));
    else if (l !== '' && !l.startsWith('#')) {
      segments.push({ msn: mediaSequence + segments.length, uri: l, discontinuity: pending.discontinuity ?? false, pdt: pending.pdt, extinf: pending.extinf! });
      pending = {};
    }
  }
  return { segments, mediaSequence, discontinuitySequence: num('#EXT-X-DISCONTINUITY-SEQUENCE:'), targetDuration: num('#EXT-X-TARGETDURATION:') };
}

async function publishFor(o: RunningOrigin, ms: number): Promise<void> {
  const pub = startPublisher(o.rtmp(KEY), { width: 320, height: 180, fps: 30, gop: 30, videoBitrate: '300k' });
  await sleep(ms);
  await stopPublisher(pub);
}

async function fetchAll(base: string, segs: Listed[]): Promise<Map<number, { status: number; bytes: Buffer }>> {
  const out = new Map<number, { status: number; bytes: Buffer }>();
  for (const s of segs) {
    const r = await fetch(`${base}/live/dvr/${s.uri}`);
    out.set(s.msn, { status: r.status, bytes: Buffer.from(await r.arrayBuffer()) });
  }
  return out;
}

t.test('a restart restores the live window exactly: sessions, discontinuities, numbering and bytes', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sigma-dvr-restore-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const settings = { dataDir, reconnectWindowSec: 3, endedRetentionSec: 1 };

  const live = await startOrigin({ ...settings, channels: [channel('ultra-low')] });
  const playlistUrl = (o: RunningOrigin) => `${o.http}/live/dvr/source.m3u8`;
  let before: ReturnType<typeof listSegments>;
  let liveBytes: Map<number, { status: number; bytes: Buffer }>;
  try {
    // Session 1, then longer than the reconnect window and the ended retention: its playlist ends and goes.
    await publishFor(live, 5000);
    const ch = live.origin.channels.get('dvr')!;
    await waitUntil(() => ch.state === 'idle', 15_000, 'the first playlist to end and be dropped');
    // Session 2 starts a new playlist; session 3 reconnects within the window (a discontinuity).
    await publishFor(live, 5000);
    await waitUntil(() => ch.state === 'reconnecting', 5000, 'the second session to end');
    await publishFor(live, 5000);
    await waitUntil(() => ch.state === 'reconnecting', 5000, 'the third session to end');
    const text = await (await fetch(playlistUrl(live))).text();
    before = listSegments(text);
    liveBytes = await fetchAll(live.http, before.segments);
  } finally {
    await live.close();
  }
  const discontinuities = before.segments.filter((s) => s.discontinuity).map((s) => s.msn);
  t.equal(discontinuities.length, 1, `the live playlist has the reconnect's discontinuity (at ${discontinuities})`);
  t.ok(before.segments.length >= 4, `the live playlist lists sessions 2 and 3 (${before.segments.length} segments)`);
  t.ok([...liveBytes.values()].every((r) => r.status === 200 && r.bytes.length > 0), 'the live origin serves every listed segment');

  for (const mode of ['ultra-low', 'normal']) {
    await t.test(`restarted in ${mode} mode`, async (t) => {
      const o = await startOrigin({ ...settings, channels: [channel(mode)] });
      try {
        const after = listSegments(await (await fetch(playlistUrl(o))).text());
        t.same(after.segments.map((s) => s.msn), before.segments.map((s) => s.msn), 'the same MSNs: the older session is not listed again');
        t.same(after.segments.map((s) => s.uri), before.segments.map((s) => s.uri), 'the same URIs');
        t.same(after.segments.map((s) => s.pdt), before.segments.map((s) => s.pdt), 'the same PROGRAM-DATE-TIMEs');
        t.same(after.segments.map((s) => s.extinf), before.segments.map((s) => s.extinf), 'the same durations');
        t.same(after.segments.filter((s) => s.discontinuity).map((s) => s.msn), discontinuities, 'the discontinuity where the publisher reconnected');
        t.equal(after.discontinuitySequence, before.discontinuitySequence, 'the same DISCONTINUITY-SEQUENCE');
        t.ok(after.segments.every((s) => s.extinf <= after.targetDuration + 0.5), `every EXTINF ≤ TARGETDURATION ${after.targetDuration}`);
        const served = await fetchAll(o.http, after.segments);
        const wrong = after.segments.filter((s) => {
          const got = served.get(s.msn)!, want = liveBytes.get(s.msn)!;
          return got.status !== 200 || !got.bytes.equals(want.bytes);
        }).map((s) => `${s.msn}: ${served.get(s.msn)!.status}, ${served.get(s.msn)!.bytes.length} of ${liveBytes.get(s.msn)!.bytes.length} bytes`);
        t.same(wrong, [], 'every listed segment serves exactly the bytes the live origin served');
      } finally {
        await o.close();
      }
    });
  }
});
