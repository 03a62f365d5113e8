import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, spawnOrigin, type OriginProcess } from '../helpers/origin-process.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { waitUntil } from '../helpers/origin.js';
import { parseM3u8 } from '../helpers/m3u8.js';

/**
 * Issue 4, point 6: kill -9 of the origin in the middle of a stream, then a restart. The
 * archive up to the last completed part is intact and plays, the DVR window comes back, media
 * sequence numbers go on (never reused) with a discontinuity where the publisher reconnects.
 * The real process entry (dist/src/main.js) on fixed ports, a real ffmpeg publisher.
 */

/** Flip when source recordings are wired: the config records, and the recordings subtest runs. */

const FPS = 30;
const KEY = 'demo-key-123';
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A line of segments.log, read independently of the product's parser (format: archive-layout.ts). */
interface Logged { msn: number; initId: number; discontinuity: boolean; pdtMs: number; durationMs: number; bytes: number; hour: string }

const hourDirs = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((d) => /^\d{10}$/.test(d)).sort() : []);

function readSegmentsLogs(dir: string): Logged[] {
  const out: Logged[] = [];
  for (const hour of hourDirs(dir)) {
    const path = join(dir, hour, 'segments.log');
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const f = line.split(' ').map(Number);
      if (f.length !== 7 || f.some((x) => !Number.isFinite(x))) continue;
      out.push({ msn: f[0], initId: f[1], discontinuity: f[2] === 1, pdtMs: f[3], durationMs: f[5], bytes: f[6], hour });
    }
  }
  return out;
}

/** The last segment opened in the newest hour's parts.log, with the parts journaled for it. */
function readJournal(dir: string): { hour: string; msn: number; parts: { bytes: number; durationMs: number }[] } | undefined {
  const hour = hourDirs(dir).at(-1);
  if (!hour || !existsSync(join(dir, hour, 'parts.log'))) return undefined;
  const lines = readFileSync(join(dir, hour, 'parts.log'), 'utf8').split('\n');
  let at = lines.length - 1;
  while (at >= 0 && !lines[at].startsWith('O ')) at--;
  if (at < 0) return undefined;
  const msn = Number(lines[at].split(' ')[1]);
  const parts = lines.slice(at + 1).map((l) => l.split(' '))
    .filter((f) => f.length === 5 && f[0] === 'P' && Number(f[1]) === msn)
    .map((f) => ({ bytes: Number(f[3]), durationMs: Number(f[4]) }));
  return { hour, msn, parts };
}

interface Listed { msn: number; durationSec: number; pdtMs: number | undefined; uri: string; discontinuity: boolean; mapUri?: string }

/** Fetches and parses a playlist; `segments` are its complete segments with their MSNs. */
async function getPlaylist(url: string) {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, text, manifest: undefined as any, warnings: [] as string[], segments: [] as Listed[] };
  const { manifest, warnings } = parseM3u8(text);
  const segments: Listed[] = (manifest.segments as any[]).map((s, i) => ({
    msn: manifest.mediaSequence + i, durationSec: s.duration, uri: new URL(s.uri, url).href,
    pdtMs: s.dateTimeObject ? (s.dateTimeObject as Date).getTime() : undefined,
    discontinuity: s.discontinuity === true, mapUri: s.map?.uri && new URL(s.map.uri, url).href,
  }));
  return { status: res.status, text, manifest, warnings, segments };
}

async function bytesOf(url: string): Promise<{ status: number; length: number; header: string | null; data: Buffer }> {
  const r = await fetch(url);
  const data = Buffer.from(await r.arrayBuffer());
  return { status: r.status, length: data.length, header: r.headers.get('content-length'), data };
}

/** Decodes every video frame of a file or URL with ffprobe: frames read, container duration, errors printed. */
async function decodeVideo(input: string): Promise<{ frames: number; durationSec: number; errors: string }> {
  const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames:format=duration', '-of', 'json', input], { timeout: 30_000 });
  const j = JSON.parse(stdout) as { streams?: { nb_read_frames?: string }[]; format?: { duration?: string } };
  return { frames: Number(j.streams?.[0]?.nb_read_frames ?? 0), durationSec: Number(j.format?.duration ?? NaN), errors: stderr.trim() };
}

/** Awaits a wait; when it times out, the error says what the publisher and the origin printed. */
async function explained<T>(wait: Promise<T>, o: OriginProcess, pub?: { stderrText(): string }): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const logs = o.logs().slice(-15).map((l) => JSON.stringify(l)).join('\n');
    throw new Error(`${(err as Error).message}\nffmpeg: ${pub?.stderrText() ?? '-'}\norigin stderr: ${o.stderr()}\norigin logs:\n${logs}`);
  }
}

/** Decodes one segment on its own (its init segment + its bytes, as a player would fetch them). */
async function decodeSegment(dir: string, s: Listed): Promise<{ frames: number; durationSec: number; errors: string }> {
  const file = join(dir, `segment-${s.msn}.mp4`);
  writeFileSync(file, Buffer.concat([(await bytesOf(s.mapUri!)).data, (await bytesOf(s.uri)).data]));
  try {
    return await decodeVideo(file);
  } finally {
    rmSync(file, { force: true });
  }
}

t.test('kill -9 mid-stream, restart: archive intact and playable, DVR window back, MSNs go on with a discontinuity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-crash-'));
  const dataDir = join(dir, 'data');
  const archiveDir = join(dataDir, 'archive', 'demo', 'source');
  const children: { stop(): Promise<unknown> }[] = [];
  t.teardown(async () => {
    for (const c of children.reverse()) await c.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const track = (o: OriginProcess) => { children.push({ stop: () => o.stop('SIGKILL') }); return o; };
  const publish = () => {
    const p = startPublisher(`rtmp://127.0.0.1:${rtmpPort}/live/${KEY}`, { fps: FPS, gop: FPS });
    children.push({ stop: () => stopPublisher(p) });
    return p;
  };

  const [rtmpPort, httpPort] = await freePorts(2);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: rtmpPort }, http: { host: '127.0.0.1', port: httpPort }, http2: { enabled: false }, api: { host: '127.0.0.1', port: 0 },
    dataDir, log: { level: 'info' },
    latencyModes: { 'ultra-low': { segmentTargetSec: 1, partTargetSec: 0.2, playlistWindowSec: 6 } },
    dvr: { windowSec: 120 }, reconnectWindowSec: 20,
    channels: [{ id: 'demo', streamKey: KEY, latencyMode: 'ultra-low', record: true }],
  }));

  // ── Run 1: publish ~8 s, then kill -9 in the middle of a segment while ffmpeg still publishes.
  const startAt = Date.now();
  const first = track(spawnOrigin(configFile));
  const base = await first.ready;
  const coldStartMs = Date.now() - startAt;
  const liveUrl = (b: string) => `${b}/live/demo/source.m3u8`;
  const pub1 = publish();
  const publishedAt = Date.now();
  await explained(waitUntil(async () => (await fetch(liveUrl(base))).status === 200, 20_000, 'the first live playlist'), first, pub1);
  await sleep(Math.max(0, publishedAt + 8000 - Date.now()));
  // At least 6 complete segments (a slow machine may start ffmpeg late), and the open segment
  // (parts after the last EXTINF) has 2-3 parts: its first part is surely on disk.
  const before = await explained(waitUntil(async () => {
    const p = await getPlaylist(liveUrl(base));
    const open = p.manifest?.preloadSegment?.parts?.length ?? 0;
    return p.segments.length >= 6 && open >= 2 && open <= 3 ? p : undefined;
  }, 20_000, '6 segments, then a moment in the middle of a segment'), first, pub1);
  first.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await first.stop('SIGKILL');
  t.equal(first.proc.signalCode, 'SIGKILL', 'the origin died of SIGKILL');
  await stopPublisher(pub1); // ffmpeg loses its connection; whatever it says is not the point
  const beforeMsns = before.segments.map((s) => s.msn);
  const openMsn = before.manifest.mediaSequence + before.segments.length;
  const openPartsSeen: number = before.manifest.preloadSegment.parts.length;
  t.comment(`before the crash: MSNs ${beforeMsns[0]}..${beforeMsns.at(-1)} complete, ${openMsn} open with ${openPartsSeen} parts listed`);

  // ── On disk after the crash: the index of the complete segments, the journal of the open one.
  const journal = readJournal(archiveDir);
  await t.test('on disk: segments.log indexes the complete segments, parts.log journals the open one', async (t) => {
    const logged = readSegmentsLogs(archiveDir);
    t.ok(logged.length >= beforeMsns.length, `segments.log has ${logged.length} lines`);
    const loggedMsns = new Set(logged.map((s) => s.msn));
    t.same(beforeMsns.filter((m) => !loggedMsns.has(m)), [], 'every segment complete before the crash is indexed');
    t.ok(journal, 'parts.log has an open segment');
    if (!journal) return;
    // The origin may have gone on a little between the last playlist seen and the kill (busy machine).
    t.ok(journal.msn >= openMsn, `the segment open in parts.log (${journal.msn}) is not older than the one open in the playlist (${openMsn})`);
    t.notOk(loggedMsns.has(journal.msn), 'the open segment has no segments.log line');
    t.ok(journal.parts.length >= 1, `${journal.parts.length} whole parts journaled (${openPartsSeen} listed)`);
    const size = statSync(join(archiveDir, journal.hour, `${journal.msn}.m4s`)).size;
    const journaled = journal.parts.reduce((a, p) => a + p.bytes, 0);
    t.ok(size >= journaled, `the open segment file (${size} B) holds the journaled bytes (${journaled} B)`);
  });

  // ── Run 2: the same config again.
  const restartAt = Date.now();
  const second = track(spawnOrigin(configFile));
  const base2 = await second.ready;
  const readyMs = Date.now() - restartAt;
  const restored = await getPlaylist(liveUrl(base2));
  const afterRestart = readSegmentsLogs(archiveDir);
  const loggedByMsn = new Map(afterRestart.map((s) => [s.msn, s]));
  const recovered = journal && journal.parts.length > 0 ? loggedByMsn.get(journal.msn) : undefined;
  t.comment(`restart: URLs printed ${readyMs} ms after spawn (first start: ${coldStartMs} ms; ${Date.now() - killedAt} ms after the kill); ` +
    `recovery log: ${JSON.stringify(second.logs().filter((l) => /recovered|restored|left open/.test(String(l.msg))).map((l) => l.msg))}`);

  await t.test('(a) the live playlist answers at once with the DVR window from before the crash', async (t) => {
    t.equal(restored.status, 200, 'the live media playlist answers 200 right after the restart');
    if (restored.status !== 200) return;
    t.same(restored.warnings, [], 'm3u8-parser has no warnings');
    t.notOk(restored.manifest.endList, 'no ENDLIST: the channel waits for its publisher');
    const msns = restored.segments.map((s) => s.msn);
    t.comment(`restored: ${msns.length} segments, MSNs ${msns[0]}..${msns.at(-1)}`);
    t.equal(msns[0], beforeMsns[0], 'the whole DVR window is back (same first MSN)');
    const byMsn = new Map(restored.segments.map((s) => [s.msn, s]));
    for (const b of before.segments) {
      const r = byMsn.get(b.msn);
      if (!t.ok(r, `MSN ${b.msn} listed again`)) continue;
      t.ok(Math.abs(r!.durationSec - b.durationSec) < 0.002, `MSN ${b.msn}: EXTINF ${r!.durationSec} as before (${b.durationSec})`);
      t.equal(r!.pdtMs, b.pdtMs, `MSN ${b.msn}: same PROGRAM-DATE-TIME`);
    }
    if (t.ok(recovered, `the open segment ${journal?.msn} was recovered into segments.log`)) {
      const journaledMs = journal!.parts.reduce((a, p) => a + p.durationMs, 0);
      const journaledBytes = journal!.parts.reduce((a, p) => a + p.bytes, 0);
      t.equal(recovered!.bytes, journaledBytes, `recovered ${recovered!.bytes} B: exactly the ${journal!.parts.length} journaled parts`);
      t.equal(recovered!.durationMs, journaledMs, `recovered ${recovered!.durationMs} ms of media`);
      t.equal(statSync(join(archiveDir, recovered!.hour, `${recovered!.msn}.m4s`)).size, recovered!.bytes, 'the file was cut at the last whole part');
      t.equal(msns.at(-1), recovered!.msn, 'the recovered segment is the last one listed');
      t.ok(Math.abs(byMsn.get(recovered!.msn)!.durationSec * 1000 - journaledMs) < 2, 'its EXTINF is its journaled duration');
    }
    for (const s of restored.segments) {
      const got = await bytesOf(s.uri);
      const want = loggedByMsn.get(s.msn)?.bytes;
      t.equal(got.status, 200, `MSN ${s.msn}: 200`);
      t.equal(got.length, want, `MSN ${s.msn}: ${got.length} B, as indexed`);
    }
    const mapUri = restored.segments[0]?.mapUri;
    t.equal(mapUri && (await bytesOf(mapUri)).status, 200, 'the init segment answers 200');
  });

  await t.test('the recovered segment decodes on its own (init + segment)', async (t) => {
    const last = restored.segments.at(-1);
    if (!recovered || last?.msn !== recovered.msn || !last.mapUri) return t.fail('no recovered segment listed to decode');
    const d = await decodeSegment(dir, last);
    t.equal(d.errors, '', 'ffprobe prints no errors');
    const expected = Math.round((recovered.durationMs / 1000) * FPS);
    t.ok(Math.abs(d.frames - expected) <= 1, `${d.frames} frames decoded, ${expected} expected for ${recovered.durationMs} ms`);
  });

  // ── The publisher comes back within the reconnect window.
  const pub2 = publish();
  const lastBefore = Math.max(...afterRestart.map((s) => s.msn));
  const continued = await explained(waitUntil(async () => {
    const p = await getPlaylist(liveUrl(base2));
    return p.segments.filter((s) => s.msn > lastBefore).length >= 3 ? p : undefined;
  }, 25_000, 'three new segments after the reconnect'), second, pub2);

  await t.test('(b) the reconnect continues the playlist: new MSNs, EXT-X-DISCONTINUITY before the first', async (t) => {
    t.same(continued.warnings, [], 'm3u8-parser has no warnings');
    const firstNew = continued.segments.find((s) => s.msn > lastBefore)!;
    t.comment(`after the reconnect: first new MSN ${firstNew.msn} (last before the crash ${lastBefore})`);
    t.equal(firstNew.msn, lastBefore + 1, 'MSNs go on from the last archived one');
    t.ok(firstNew.msn > Math.max(...beforeMsns, openMsn, journal?.msn ?? 0), 'no MSN seen or journaled before the crash is reused');
    t.same(continued.segments.filter((s) => s.discontinuity).map((s) => s.msn), [firstNew.msn],
      'EXT-X-DISCONTINUITY precedes the first new segment, and only it');
    t.equal(continued.segments[0].msn, beforeMsns[0], 'the DVR window still starts where it did');
    const restoredByMsn = new Map(restored.segments.map((s) => [s.msn, s]));
    const changed = continued.segments.filter((s) => s.msn <= lastBefore)
      .filter((s) => s.durationSec !== restoredByMsn.get(s.msn)?.durationSec || s.pdtMs !== restoredByMsn.get(s.msn)?.pdtMs);
    t.same(changed.map((s) => s.msn), [], 'the segments from before the crash are listed as restored (EXTINF, PROGRAM-DATE-TIME)');
    const old = continued.segments.find((s) => s.msn === lastBefore)!;
    t.equal((await bytesOf(old.uri)).length, loggedByMsn.get(old.msn)!.bytes, 'the recovered segment still serves its own bytes');
  });

  await stopPublisher(pub2);
  const sessions = await explained(waitUntil(async () => {
    const r = await fetch(`${base2}/live/demo/archive/sessions.json`);
    const j = r.status === 200 ? await r.json() as { sessions: { startedAt: string; endedAt: string | null; live: boolean; playlist: string }[] } : undefined;
    return j && j.sessions.length >= 2 && j.sessions.every((s) => s.endedAt !== null) ? j.sessions : undefined;
  }, 15_000, 'both sessions closed in sessions.json'), second);
  await sleep(1500); // `to` a little in the past, after the last segment: a closed (VOD) range
  const archived = readSegmentsLogs(archiveDir);
  const from = Math.floor(Date.parse(sessions[0].startedAt) / 1000);
  const to = Math.floor(Date.now() / 1000);
  const catchupUrl = `${base2}/live/demo/archive/${from}-${to}.m3u8`;

  await t.test('(c) the catchup playlist of the whole span lists every archived segment and plays', async (t) => {
    const msns = archived.map((s) => s.msn);
    t.same(msns, [...new Set(msns)].sort((a, b) => a - b), 'the archive never holds an MSN twice, in order');
    const c = await getPlaylist(catchupUrl);
    t.equal(c.status, 200, catchupUrl);
    if (c.status !== 200) return;
    t.same(c.warnings, [], 'm3u8-parser has no warnings');
    t.ok(c.manifest.endList, 'ENDLIST');
    t.equal(c.manifest.playlistType, 'VOD');
    t.same(c.segments.map((s) => s.msn), msns, `all ${msns.length} archived segments listed`);
    t.same(c.segments.filter((s) => s.pdtMs === undefined).map((s) => s.msn), [], 'every segment has PROGRAM-DATE-TIME');
    t.same(c.segments.filter((s) => s.discontinuity).map((s) => s.msn), [lastBefore + 1], 'a discontinuity at the crash, nowhere else');
    const extinf = c.segments.reduce((a, s) => a + s.durationSec, 0);
    const d = await decodeVideo(catchupUrl);
    t.comment(`catchup: ${c.segments.length} segments, EXTINF sum ${extinf.toFixed(3)} s, ffprobe duration ${d.durationSec} s, ${d.frames} frames`);
    t.equal(d.errors, '', 'ffprobe decodes it without errors');
    t.ok(Math.abs(d.durationSec - extinf) < 0.5, `ffprobe duration ${d.durationSec} s ≈ EXTINF sum ${extinf.toFixed(3)} s`);
    // ffmpeg's HLS demuxer drops a few frames where the init segment changes (fMP4 across a
    // discontinuity: "duplicated MOOV", DTS going back), so the whole-span count is approximate;
    // segment by segment it is exact.
    t.ok(Math.abs(d.frames / FPS - extinf) < 0.5, `${d.frames} frames decoded ≈ ${(extinf * FPS).toFixed(0)}`);
    for (const s of c.segments) {
      const one = await decodeSegment(dir, s);
      t.ok(one.errors === '' && one.frames === Math.round(s.durationSec * FPS), `MSN ${s.msn}: ${one.frames} frames for EXTINF ${s.durationSec} ${one.errors}`);
    }
  });

  await t.test('(d) sessions.json: two sessions, the first closed by recovery at the end of its archive', async (t) => {
    t.equal(sessions.length, 2, 'two publish sessions');
    const lastOfFirst = archived.filter((s) => s.msn <= lastBefore).at(-1)!;
    const end = new Date(Math.round(lastOfFirst.pdtMs + lastOfFirst.durationMs)).toISOString();
    t.equal(sessions[0].endedAt, end, 'the first ends where its last archived segment ends (closed by recovery)');
    t.ok(Date.parse(sessions[0].endedAt!) <= killedAt + 1000, 'not after the kill');
    t.ok(Date.parse(sessions[1].startedAt) > Date.parse(sessions[0].endedAt!), 'the second starts after it');
    t.same(sessions.map((s) => s.live), [false, false]);
    t.equal((await fetch(base2 + sessions[0].playlist)).status, 200, `the first session's playlist ${sessions[0].playlist} answers`);
  });

  await t.test('recordings survive the crash up to the last whole part and play', async (t) => {
    const recDir = join(dataDir, 'recordings', 'demo');
    const sidecars = readdirSync(recDir).filter((f) => f.endsWith('.json')).sort()
      .map((f) => JSON.parse(readFileSync(join(recDir, f), 'utf8')) as { file: string; complete: boolean; endedAt: string | null; bytes: number; durationMs: number; firstMsn: number; lastMsn: number });
    t.equal(sidecars.length, 2, 'one recording per session');
    const [crashed, after] = sidecars;
    t.equal(crashed.firstMsn, beforeMsns[0]);
    t.ok(crashed.complete && crashed.endedAt !== null, 'the crashed recording was finalized by recovery');
    t.ok(crashed.lastMsn >= beforeMsns.at(-1)! && crashed.lastMsn <= (journal?.msn ?? openMsn), `it ends at MSN ${crashed.lastMsn}`);
    t.equal(statSync(join(recDir, crashed.file)).size, crashed.bytes, 'cut at its last whole part');
    const d = await decodeVideo(join(recDir, crashed.file));
    t.equal(d.errors, '');
    t.ok(Math.abs(d.frames / FPS - crashed.durationMs / 1000) < 0.5, `${d.frames} frames for ${crashed.durationMs} ms`);
    t.equal(after.firstMsn, lastBefore + 1, 'the next session records from the first new MSN');
  });
});
