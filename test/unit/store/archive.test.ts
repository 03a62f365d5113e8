import t, { type Test } from 'tap';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, appendFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeStream } from '../../helpers/window.js';
import { silentLogger } from '../../../src/log.js';
import { ChannelArchive } from '../../../src/store/archive/channel-archive.js';
import { recoverOpenSegment } from '../../../src/store/archive/archive-recovery.js';
import { formatSegmentLine, hourKey, parseBoundary } from '../../../src/store/archive/archive-layout.js';
import type { StorageGate } from '../../../src/store/disk/storage-gate.js';
import type { TrackInfo } from '../../../src/media/types.js';

const TRACKS: TrackInfo[] = [{ kind: 'audio', id: 1, codec: 'aac', timescale: 1000, codecConfig: Buffer.from([0x12, 0x10]), sampleRate: 44100, channels: 2 }];

function setup(t: Test, gate: StorageGate = { writable: true, reportWriteError: () => {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-archive-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new ChannelArchive(dir, 'demo', gate, silentLogger());
  const s = fakeStream({ partsPerSegment: 5, windowMs: 60_000, hotMs: 2_000, archived: true, minSegments: 3 });
  const writer = archive.writer('source', s.window);
  writer.addInit(1, Buffer.from('init-bytes'), TRACKS);
  /** Feeds n parts to the window and the archive writer alike, as Publication does. */
  const feed = (n: number) => {
    for (let i = 0; i < n; i++) {
      s.addPart({ bytes: 100 + i });
      writer.addPart(s.last!.part, s.last!.facts);
    }
  };
  return { dir, archive, s, writer, feed, reader: archive.reader('source') };
}

t.test('parts land on disk in order; a segment is indexed once whole; the window drops its bytes then', async (t) => {
  const { s, writer, feed, reader } = setup(t);
  feed(5 * 6 + 2);
  await writer.flush();
  const hour = hourKey(s.window.segments[0].programDateTimeMs);
  const indexed = await reader.hour(hour);
  t.same(indexed.map((x) => x.msn), [1, 2, 3, 4, 5, 6], 'the open segment is not indexed');
  const first = s.window.segments[0];
  t.equal(first.parts.length, 0, 'bytes left RAM');
  t.equal(first.archive, 'stored');
  const onDisk = readFileSync(reader.segmentPath({ hour, msn: first.msn }));
  t.equal(onDisk.length, first.bytes);
  t.equal(indexed[0].bytes, first.bytes);
  t.equal(indexed[0].durationMs, 1000);
  t.same((await reader.tracks(1))?.[0].codecConfig, TRACKS[0].codecConfig, 'tracks stored beside the init');
  t.equal((await reader.init(1))?.toString(), 'init-bytes');
  t.equal((await reader.find(hour, 3))?.msn, 3);
  t.equal(await reader.find(hour, 99), undefined);
});

t.test('range() returns the segments overlapping a time range', async (t) => {
  const { s, writer, feed, reader } = setup(t);
  feed(5 * 10 + 1);
  await writer.flush();
  const t0 = s.window.segments[0].programDateTimeMs;
  const got = await reader.range(t0 + 2500, t0 + 5000);
  t.same(got.map((x) => x.msn), [3, 4, 5], 'segment 3 straddles the start');
  t.same((await reader.latestPlaylist(3000)).segments.map((x) => x.msn), [8, 9, 10]);
});

t.test('with the gate closed nothing is written and the playlist keeps only the hot edge', async (t) => {
  const gate = { writable: false, reportWriteError: () => {} };
  const { s, writer, feed, dir } = setup(t, gate);
  feed(5 * 8 + 1);
  await writer.flush();
  t.notOk(existsSync(join(dir, 'source', hourKey(s.clock.now))), 'no hour directory');
  t.ok(s.window.segments.every((x) => x.parts.length > 0), 'every listed segment is still servable from RAM');
  t.ok(s.window.segments.length <= 4, `${s.window.segments.length} listed`);
  gate.writable = true;
  feed(5 * 3);
  await writer.flush();
  t.ok(s.window.segments.some((x) => x.archive === 'stored'), 'archiving resumes with the next segment');
});

t.test('recovery indexes the segment a crash left open, up to its last journaled part', async (t) => {
  const { s, writer, feed, reader, archive } = setup(t);
  feed(5 * 2 + 3); // segments 1, 2 closed; segment 3 open with 3 parts
  await writer.flush();
  const open = s.window.segments[2];
  const hour = hourKey(open.programDateTimeMs);
  const path = join(reader.paths.root, hour, '3.m4s');
  const whole = statSync(path).size;
  appendFileSync(path, Buffer.alloc(37, 0xee)); // a part half-written when the process died
  appendFileSync(reader.paths.partsLog(hour), 'P 3 3 9'); // and a torn journal line
  const rec = await recoverOpenSegment(reader);
  t.equal(rec?.msn, 3);
  t.equal(rec?.bytes, whole);
  t.equal(rec?.durationMs, 600);
  t.equal(statSync(path).size, whole, 'the torn tail is cut');
  t.same((await reader.hour(hour)).map((x) => x.msn), [1, 2, 3]);
  t.equal(await recoverOpenSegment(reader), undefined, 'idempotent');
  await archive.sessions.started(1000);
  const restored = await archive.recover('source', 60_000);
  t.same(restored?.segments.map((x) => x.msn), [1, 2, 3]);
  t.same((await archive.sessions.list()).map((x) => x.endMs !== undefined), [true], 'the open session is closed');
});

t.test('session log: start/end pairs with their slate times, retention rewrite keeps later appends', async (t) => {
  const { archive } = setup(t);
  await archive.sessions.started(1000);
  await archive.sessions.slate(1200, 1300);
  await archive.sessions.ended(2000);
  await archive.sessions.started(5000);
  await archive.sessions.slate(5100, 5200);
  await Promise.all([archive.sessions.dropBefore(3000), archive.sessions.slate(5500, 5900), archive.sessions.ended(6000), archive.sessions.started(7000)]);
  t.same(await archive.sessions.list(), [{ startMs: 5000, endMs: 6000, slates: [{ startMs: 5100, endMs: 5200 }, { startMs: 5500, endMs: 5900 }] },
    { startMs: 7000, slates: [] }]);
});

t.test('an init that arrived while the disk was low is written before the first archived segment', async (t) => {
  const gate = { writable: false, reportWriteError: () => {} };
  const { writer, feed, reader } = setup(t, gate); // setup's addInit(1) happens with the gate closed
  feed(5 * 2);
  await writer.flush();
  t.equal(await reader.init(1), undefined, 'nothing written while low');
  gate.writable = true;
  feed(5 * 2 + 1);
  await writer.flush();
  t.equal((await reader.init(1))?.toString(), 'init-bytes');
  t.ok(await reader.tracks(1));
});

t.test('latestPlaylist(): the newest playlist only, back to where it opened or to a gap, with its discontinuity sequence', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-archive-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new ChannelArchive(dir, 'demo', { writable: true, reportWriteError: () => {} }, silentLogger());
  const reader = archive.reader('source');
  const t0 = Date.UTC(2026, 10, 25, 11, 59, 50);
  // Playlist A (msn 10-12, ended), then playlist B opening at 20 with reconnects before 23 and 26,
  // spread over two hours. Each segment lasts 2 s.
  const lines: [number, 0 | 1 | 2][] = [[10, 2], [11, 0], [12, 0], [20, 2], [21, 0], [22, 0], [23, 1], [24, 0], [25, 0], [26, 1], [27, 0]];
  for (const [k, [msn, boundary]] of lines.entries()) {
    const pdt = t0 + k * 2000;
    const hour = hourKey(pdt);
    mkdirSync(join(dir, 'source', hour), { recursive: true });
    appendFileSync(join(dir, 'source', hour, 'segments.log'), formatSegmentLine({ msn, initId: 1, ...parseBoundary(boundary),
      programDateTimeMs: pdt, startMs: k * 2000, durationMs: 2000, bytes: 100 }));
  }
  const all = await reader.latestPlaylist(3_600_000);
  t.same(all.segments.map((s) => s.msn), [20, 21, 22, 23, 24, 25, 26, 27], 'playlist A is not brought back');
  t.equal(all.discontinuitySequence, 0, 'nothing left the front of B yet');
  const tail = await reader.latestPlaylist(6000);
  t.same(tail.segments.map((s) => s.msn), [25, 26, 27], 'the DVR span of B');
  t.equal(tail.discontinuitySequence, 1, 'the reconnect before 23 left with the segments before it');
  t.equal((await reader.latestPlaylist(4000)).discontinuitySequence, 2, 'listed first, 26 counts too (its tag is not shown)');
  // A gap (a segment the archive could not take) ends the run as it ended the live listing.
  appendFileSync(join(dir, 'source', hourKey(t0 + 11 * 2000), 'segments.log'), formatSegmentLine({ msn: 29, initId: 1,
    discontinuity: false, programDateTimeMs: t0 + 11 * 2000, startMs: 22_000, durationMs: 2000, bytes: 100 }));
  t.same((await reader.latestPlaylist(3_600_000)).segments.map((s) => s.msn), [29]);
});

t.test('the archive tally: bytes written and queued, as /metrics reads them', async (t) => {
  const { archive, writer, feed } = setup(t);
  feed(7);
  const parts = Array.from({ length: 7 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0);
  t.ok(archive.tally.queuedBytes > 0, `queued before the writes ran: ${archive.tally.queuedBytes}`);
  await writer.flush();
  t.equal(archive.tally.queuedBytes, 0);
  t.equal(archive.tally.bytesWritten, 'init-bytes'.length + parts);
  t.equal(archive.tally.droppedSegments, 0);
});
