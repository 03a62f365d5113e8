/**
 * Archive retention on real files: a ten-day archive tree (hour directories, segments.log,
 * segment files, init segments, sessions.log) swept with a fixed clock, and checked by what is
 * left on disk.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ArchiveSweeper, type SweepTarget } from '../../../src/store/archive/archive-sweeper.js';
import { ChannelArchive } from '../../../src/store/archive/channel-archive.js';
import { ArchivePaths, formatSegmentLine, HOUR_MS, hourKey, hourStartMs } from '../../../src/store/archive/archive-layout.js';
import { ALWAYS_WRITABLE } from '../../../src/store/disk/storage-gate.js';
import { silentLogger } from '../../../src/log.js';

const DAY_MS = 24 * HOUR_MS;
const DAY0 = Date.UTC(2025, 5, 1);
/** Day 9, 15:30 UTC: with 7 days of retention the cutoff is day 2, 15:30, inside session 2. */
const NOW = DAY0 + 9 * DAY_MS + 15.5 * HOUR_MS;
const SEGMENT_MS = 30 * 60_000;

interface Session { startMs: number; endMs?: number; slates: { startMs: number; endMs: number }[] }

/**
 * Ten publish sessions, one a day from 00:00 to 20:00 UTC (the last still live at NOW), each
 * with its own init, a segment every 30 minutes; hour directories only where it was live.
 */
const TEN_DAYS: Session[] = Array.from({ length: 10 }, (_, k) => {
  const startMs = DAY0 + k * DAY_MS;
  // Every other session had the slate on air for a minute at its second hour (backup inputs).
  const slates = k % 2 === 0 ? [{ startMs: startMs + HOUR_MS, endMs: startMs + HOUR_MS + 60_000 }] : [];
  return k < 9 ? { startMs, endMs: startMs + 20 * HOUR_MS, slates } : { startMs, slates };
});

let root: string;
t.before(() => { root = mkdtempSync(join(tmpdir(), 'sigma-sweep-')); });
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const initIdOf = (s: Session) => Math.floor(s.startMs / 1000);

/** Writes a channel's archive tree (renditions alike) as the writer would have left it. */
function buildArchive(name: string, sessions: Session[], renditions = ['source']): ChannelArchive {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  let log = '';
  for (const rendition of renditions) {
    const paths = new ArchivePaths(join(dir, rendition));
    mkdirSync(paths.initDir(), { recursive: true });
    let msn = 1;
    for (const s of sessions) {
      const initId = initIdOf(s);
      writeFileSync(paths.init(initId), 'init');
      writeFileSync(paths.tracks(initId), '[]');
      for (let pdt = s.startMs; pdt < (s.endMs ?? NOW); pdt += SEGMENT_MS, msn++) {
        const hour = hourKey(pdt);
        mkdirSync(paths.hourDir(hour), { recursive: true });
        writeFileSync(paths.segment(hour, msn), 'm4s-bytes');
        appendFileSync(paths.segmentsLog(hour), formatSegmentLine({
          msn, initId, discontinuity: pdt === s.startMs, programDateTimeMs: pdt, startMs: pdt - s.startMs, durationMs: SEGMENT_MS, bytes: 9,
        }));
      }
    }
  }
  for (const s of sessions) {
    log += `S ${s.startMs}\n${s.slates.map((l) => `L ${l.startMs} ${l.endMs}\n`).join('')}${s.endMs !== undefined ? `E ${s.endMs}\n` : ''}`;
  }
  writeFileSync(join(dir, 'sessions.log'), log);
  return new ChannelArchive(dir, name, ALWAYS_WRITABLE, silentLogger());
}

/** Every file under dir, relative and sorted, with its size: what a second sweep must leave alone. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => `${f} ${statSync(join(dir, f)).size}`).sort();
}

const hoursOf = (a: ChannelArchive, rendition = 'source') => readdirSync(join(a.dir, rendition)).filter((d) => /^\d{10}$/.test(d)).sort();
const initsOf = (a: ChannelArchive, rendition = 'source') => readdirSync(join(a.dir, rendition, 'init')).sort();
const initFiles = (...sessions: Session[]) => sessions.flatMap((s) => [`${initIdOf(s)}.json`, `${initIdOf(s)}.mp4`]).sort();

function sweeper(archives: SweepTarget[] | (() => SweepTarget[]), now = NOW, logger = silentLogger()) {
  return new ArchiveSweeper({ archives: typeof archives === 'function' ? archives : () => archives, intervalMs: 60_000, logger, now: () => now });
}

/** A pino logger writing its JSON lines into an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

t.test('7 days of retention over 10 days of archive: exactly the old hours, inits and sessions go', async (t) => {
  const a = buildArchive('week', TEN_DAYS, ['source', 'low']);
  const before = hoursOf(a);
  t.equal(before.length, 9 * 20 + 16, 'hours built: 20 a day, 16 on the live day');
  const result = await sweeper([{ archive: a, retentionMs: 7 * DAY_MS }]).sweepOnce();
  const cutoff = NOW - 7 * DAY_MS;

  // Days 0 and 1 whole (2 × 20) and day 2 up to 14:00-15:00 (15), per rendition.
  t.same(result, { hoursDeleted: 2 * 55, initsDeleted: 2 * 2, sessionsDropped: 2 });
  for (const rendition of ['source', 'low']) {
    const after = hoursOf(a, rendition);
    t.equal(after[0], '2025060315', `${rendition}: the hour straddling the cutoff (15:00-16:00, cutoff 15:30) is kept`);
    t.notOk(after.includes('2025060314'), `${rendition}: the hour that ended at 15:00 is gone`);
    t.same(after, before.filter((h) => hourStartMs(h) + HOUR_MS > cutoff), `${rendition}: every hour that ended after the cutoff is kept`);
    t.ok(after.every((h) => hourStartMs(h) + HOUR_MS > cutoff), 'nothing younger than the retention deleted');
    t.same(initsOf(a, rendition), initFiles(...TEN_DAYS.slice(2)), `${rendition}: inits of sessions 0 and 1 gone, session 2 (still referenced) on`);
  }
  const straddling = new ArchivePaths(join(a.dir, 'source'));
  const segs = await a.reader('source').hour('2025060315');
  t.equal(segs.length, 2, 'the straddling hour is still indexed');
  t.ok(segs[0].programDateTimeMs < cutoff, 'and holds a segment older than the cutoff');
  for (const s of segs) t.ok(existsSync(straddling.segment(s.hour, s.msn)), `segment ${s.msn} intact`);
  t.same(await a.sessions.list(), TEN_DAYS.slice(2), 'sessions 0 and 1 ended before the cutoff; 2 (ends after) and the live one stay, with their slate times');

  const kept = snapshot(a.dir);
  const again = await sweeper([{ archive: a, retentionMs: 7 * DAY_MS }]).sweepOnce();
  t.same(again, { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 }, 'a second sweep deletes nothing');
  t.same(snapshot(a.dir), kept, 'and leaves every file as it was');
});

t.test('per-channel retention: each channel is swept with its own', async (t) => {
  const cases = [
    // retention, hours left (of 196), the first hour left, inits left (sessions from), sessions left
    { name: 'one-day', retentionMs: DAY_MS, hoursLeft: 16 + 5, firstHour: '2025060915', sessionsFrom: 8 },
    { name: 'thirty-days', retentionMs: 30 * DAY_MS, hoursLeft: 196, firstHour: '2025060100', sessionsFrom: 0 },
    { name: 'two-hours', retentionMs: 2 * HOUR_MS, hoursLeft: 3, firstHour: '2025061013', sessionsFrom: 9 },
  ];
  const targets = cases.map((c) => ({ ...c, archive: buildArchive(c.name, TEN_DAYS) }));
  await sweeper(targets).sweepOnce();
  for (const c of targets) {
    const hours = hoursOf(c.archive);
    t.equal(hours.length, c.hoursLeft, `${c.name}: hours left`);
    t.equal(hours[0], c.firstHour, `${c.name}: the oldest hour left`);
    t.same(initsOf(c.archive), initFiles(...TEN_DAYS.slice(c.sessionsFrom)), `${c.name}: inits left`);
    t.same(await c.archive.sessions.list(), TEN_DAYS.slice(c.sessionsFrom), `${c.name}: sessions left`);
  }
});

t.test('inits when no indexed segment is left: only those older than the cutoff go', async (t) => {
  const old: Session = { startMs: DAY0, endMs: DAY0 + HOUR_MS, slates: [] };
  const a = buildArchive('quiet', [old]);
  const paths = new ArchivePaths(join(a.dir, 'source'));
  // A session that just started: its init is written, its first segment is open (parts.log only).
  const fresh = Math.floor((NOW - 60_000) / 1000);
  writeFileSync(paths.init(fresh), 'init');
  writeFileSync(paths.tracks(fresh), '[]');
  writeFileSync(`${paths.init(old.startMs / 1000 + 1)}.tmp`, 'torn');
  const openHour = hourKey(NOW - 60_000);
  mkdirSync(paths.hourDir(openHour));
  writeFileSync(paths.partsLog(openHour), `O 3 ${fresh} 1 ${NOW - 60_000} 0\n`);

  const result = await sweeper([{ archive: a, retentionMs: 7 * DAY_MS }]).sweepOnce();
  t.same(result, { hoursDeleted: 1, initsDeleted: 2, sessionsDropped: 1 }, 'the old hour; the old init and the torn .tmp of another old id');
  t.same(hoursOf(a), [openHour], 'the hour being written stays');
  t.same(initsOf(a), [`${fresh}.json`, `${fresh}.mp4`], 'the live session\'s init stays though no segment is indexed yet');
  t.equal(readFileSync(paths.partsLog(openHour), 'utf8').length > 0, true, 'the open segment\'s journal is untouched');
});

t.test('sweeps never overlap: a call during a sweep shares it', async (t) => {
  const a = buildArchive('overlap', TEN_DAYS);
  const s = sweeper([{ archive: a, retentionMs: 7 * DAY_MS }]);
  const [x, y] = await Promise.all([s.sweepOnce(), s.sweepOnce()]);
  t.equal(x, y, 'one sweep, one result');
  t.same(x, { hoursDeleted: 55, initsDeleted: 2, sessionsDropped: 2 }, 'counted once');
  t.same(await s.sweepOnce(), { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 }, 'a later call sweeps again');
});

t.test('a failing channel is logged with its id and the others are still swept; sweepOnce never rejects', async (t) => {
  const broken = new ChannelArchive(join(root, 'not-a-dir'), 'broken', ALWAYS_WRITABLE, silentLogger());
  writeFileSync(broken.dir, 'a file where the channel directory should be');
  const good = buildArchive('after-broken', TEN_DAYS);
  const { lines, logger } = capturingLogger();
  const result = await sweeper([{ archive: broken, retentionMs: DAY_MS }, { archive: good, retentionMs: 7 * DAY_MS }], NOW, logger).sweepOnce();
  t.same(result, { hoursDeleted: 55, initsDeleted: 2, sessionsDropped: 2 });
  const errors = lines.filter((l) => l.level === 50);
  t.equal(errors.length, 1);
  t.match(errors[0], { component: 'archive-sweeper', channel: 'broken', err: { code: 'ENOTDIR' } });
  const info = lines.filter((l) => l.level === 30);
  t.equal(info.length, 1, 'one info line for the sweep');
  t.match(info[0], { component: 'archive-sweeper', hoursDeleted: 55, initsDeleted: 2, sessionsDropped: 2, channels: { 'after-broken': { hoursDeleted: 55 } } });

  const throwing = capturingLogger();
  const none = await sweeper(() => { throw new Error('registry gone'); }, NOW, throwing.logger).sweepOnce();
  t.same(none, { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 });
  t.match(throwing.lines, [{ level: 50, err: { message: 'registry gone' } }]);
});

t.test('a sweep that deletes nothing logs nothing; a missing channel directory is no error', async (t) => {
  const { lines, logger } = capturingLogger();
  const never = new ChannelArchive(join(root, 'never-published'), 'never', ALWAYS_WRITABLE, silentLogger());
  const result = await sweeper([{ archive: never, retentionMs: DAY_MS }], NOW, logger).sweepOnce();
  t.same(result, { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 });
  t.same(lines, []);
});

t.test('start() sweeps soon and then every interval; stop() ends it', async (t) => {
  const a = buildArchive('timed', TEN_DAYS);
  let now = NOW;
  const s = new ArchiveSweeper({ archives: () => [{ archive: a, retentionMs: 7 * DAY_MS }], intervalMs: 50, logger: silentLogger(), now: () => now });
  t.teardown(() => s.stop());
  s.start();
  s.start(); // idempotent
  const deadline = Date.now() + 5000;
  while (hoursOf(a).length !== 196 - 55 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(hoursOf(a).length, 196 - 55, 'the first sweep ran soon after start');
  now += DAY_MS; // a day later, the interval sweep catches up
  while (hoursOf(a).length !== 196 - 55 - 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(hoursOf(a)[0], '2025060415', 'the next sweep used the clock as it is then');
  s.stop();
  now += DAY_MS;
  await new Promise((r) => setTimeout(r, 200));
  t.equal(hoursOf(a)[0], '2025060415', 'no sweep after stop()');
});
