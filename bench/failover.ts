/**
 * Scenario 11 (issue 18): backup inputs.
 *
 *   node dist/bench/failover.js [--modes ultra-low,low,normal] [--switches 20] [--backup twin|smaller]
 *                               [--cpuWarmup 10] [--cpuSec 30] [--cpuRounds 2] [--skip failover,resources]
 *
 * 1. Failover time on screen, per latency mode: an origin process (`node dist/src/main.js`), a
 *    channel with a primary and one backup input (failback after 2 s, no slate, the mode's
 *    default stall time), two ffmpeg publishers in real time (640x360, 30 fps, a keyframe every
 *    0.5 s, the wall clock and a coloured marker burned in: test/helpers/input-marker.ts; the
 *    backup is the primary's twin by default), and hls.js (stock settings) in headless Chromium,
 *    joining once the playlist lists 4 segments, recording every frame it presents. Then --switches times: the primary is killed (SIGKILL;
 *    every other time SIGSTOP, connected but silent), the origin moves to the backup (its API
 *    says so), 0.7 s later the primary comes back (a new ffmpeg, or SIGCONT) and after the
 *    failback a second of it. Afterwards, from the frames the page presented: each
 *    failover's last primary frame and first backup frame on screen (their gap is the failover
 *    time on screen), the longest still picture from 0.5 s before to 2 s after and the still
 *    time in all over that span (each gap longer than two frame intervals), the media the
 *    viewer never saw (burned clocks), the time from the kill to the backup on screen (the
 *    viewer's latency included) and, from the API, kill to the origin's switch. The same for
 *    each failback. Over the whole run: every still (gap over two frame intervals), those outside
 *    every switch's span, and the origin's stall monitor in the page.
 * 2. CPU and RSS of the origin process with one channel fed by its primary only, and with the
 *    same channel and a hot backup (the primary's twin encoder) beside it: 1280x720 30 fps
 *    3 Mb/s, a keyframe a second, no viewer, --cpuWarmup s after the stream is up, then --cpuSec
 *    s of /proc/<pid>/stat (CPU over the span) and status (VmRSS every 2 s). Without the backup its encoder runs anyway, writing to
 *    nowhere (-f null), so both cases load the machine alike. The two cases run one after the
 *    other, --cpuRounds times, alternating which goes first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { launchChromium } from '../test/helpers/browser.js';
import { startClockReader } from '../test/helpers/burned-clock.js';
import { startPublisher as startMarkedPublisher } from '../test/helpers/ffmpeg.js';
import { pageFrames, PUBLISHERS, startMarkerReader, switchesOnScreen, type BackupKind, type SwitchAct } from '../test/helpers/input-marker.js';
import { playWithHlsJs, stallReport, stallsBetween, watchedPage } from '../test/helpers/player-probe.js';
import {
  CLK_TCK, flags, freePort, max, median, pct, procSample, publisherArgs, report, round, sleep, startOriginProcess, startPublisher, stopProcess, waitFor200,
  type OriginProcess,
} from './common.js';

const opts = flags({ modes: 'ultra-low,low,normal', switches: 20, backup: 'twin', cpuWarmup: 10, cpuSec: 30, cpuRounds: 2, skip: '' });
const ADMIN = 'bench-failover-admin-token-0123456789abcdef';
const PRIMARY_KEY = 'bench-fo-primary', BACKUP_KEY = 'bench-fo-backup';

/** Players join once the playlist lists this many segments (as bench/latency.ts). */
const JOIN_AFTER_SEGMENTS = 4;

const stats = (xs: number[]) => ({ p50: round(pct(xs, 50), 0), p95: round(pct(xs, 95), 0), max: round(max(xs), 0), min: round(Math.min(...xs), 0), n: xs.length });

/** An origin process with the API on (admin token) and `channels`. */
async function origin(channels: Record<string, unknown>[]): Promise<OriginProcess & { active(id: string): Promise<string | null> }> {
  const apiPort = await freePort();
  const o = await startOriginProcess({
    http2: { enabled: false },
    rtmp: { idleTimeoutSec: 30 },
    api: { host: '127.0.0.1', port: apiPort, adminToken: ADMIN },
    channels,
  });
  return {
    ...o,
    async active(id) {
      const r = await fetch(`http://127.0.0.1:${apiPort}/v1/channels/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const j = await r.json() as { status?: { inputs?: { active: string | null } } };
      return j.status?.inputs?.active ?? null;
    },
  };
}

async function until<T>(fn: () => Promise<T | false | undefined | null>, timeoutMs: number, what: string, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Act extends SwitchAct {
  kind: 'SIGKILL' | 'SIGSTOP' | 'restart' | 'SIGCONT';
  /** From the act to the origin's API showing the new input on air. */
  originMs: number;
}

/** One mode: the switches, then what the page showed. */
async function failoverMode(o: Awaited<ReturnType<typeof origin>>, browser: Awaited<ReturnType<typeof launchChromium>>, mode: string): Promise<Record<string, unknown>> {
  const id = `fo-${mode}`;
  const pubs = PUBLISHERS[opts.backup as BackupKind];
  if (!pubs) throw new Error(`--backup twin|smaller, not ${opts.backup}`);
  const rtmp = (key: string) => `rtmp://127.0.0.1:${o.ports.rtmp}/live/${key}-${mode}`;
  let primary: ChildProcess = startMarkedPublisher(rtmp(PRIMARY_KEY), pubs.primary);
  let backup: ChildProcess | undefined;
  const w = await watchedPage(browser, o.http);
  try {
    await until(async () => (await o.active(id)) === 'primary', 30_000, 'the primary on air');
    backup = startMarkedPublisher(rtmp(BACKUP_KEY), pubs.backup);
    // The backup is healthy once its first keyframe is in; give it two.
    await sleep(1500);
    const url = `${o.http}/live/${id}/index.m3u8`;
    await waitFor200(url, 30_000, `the ${mode} stream`);
    // As a viewer joins a stream live for a while (bench/latency.ts: one joining earlier starts at
    // the oldest segment and stays closer to live than HOLD-BACK, with a buffer a short segment drains).
    await until(async () => ((await (await fetch(`${o.http}/live/${id}/source.m3u8`)).text()).match(/#EXTINF:/g)?.length ?? 0) >= JOIN_AFTER_SEGMENTS,
      90_000, `${JOIN_AFTER_SEGMENTS} segments listed`, 500);
    await playWithHlsJs(w.page, o.http, url, { beforeLoad: async () => { await startClockReader(w.page); await startMarkerReader(w.page); } });
    await w.page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 90_000 });
    await sleep(3000);
    const acts: Act[] = [];
    const fromFrame = (await pageFrames(w.page)).length, stallsAtStart = await stallReport(w.page);
    const act = async (kind: Act['kind'], from: Act['from'], to: Act['to'], input: string, doIt: () => void) => {
      const at = Date.now();
      doIt();
      await until(async () => (await o.active(id)) === input, 30_000, `${input} on air after ${kind}`);
      acts.push({ what: kind, kind, from, to, at, originMs: Date.now() - at });
    };
    for (let i = 0; i < opts.switches; i++) {
      const kill = i % 2 === 0;
      await act(kill ? 'SIGKILL' : 'SIGSTOP', 'primary', 'backup', 'backup1', () => primary.kill(kill ? 'SIGKILL' : 'SIGSTOP'));
      await sleep(700);
      await act(kill ? 'restart' : 'SIGCONT', 'backup', 'primary', 'primary', () => {
        if (kill) primary = startMarkedPublisher(rtmp(PRIMARY_KEY), pubs.primary);
        else primary.kill('SIGCONT');
      });
      await sleep(1000);
      process.stderr.write(`[failover] ${mode}: switch ${i + 1}/${opts.switches} (${kill ? 'SIGKILL' : 'SIGSTOP'}) on the origin ${acts.at(-2)!.originMs} ms after the act, failback ${acts.at(-1)!.originMs} ms\n`);
    }
    // The viewer is its latency behind: wait until it has shown every switch.
    const { seen, changes } = await until(async () => {
      const r = switchesOnScreen(await pageFrames(w.page), acts);
      return r.changes.length >= acts.length && r;
    }, 90_000, 'the page to show every switch', 500);
    await sleep(2000);
    const stalled = stallsBetween(stallsAtStart, await stallReport(w.page));
    const frames = await pageFrames(w.page);
    // Every still over the run (from the first act to 2 s after the last switch on screen), and
    // those outside every switch's span: where a viewer's buffer ran dry between switches.
    const run = frames.slice(fromFrame);
    const spans = seen.map((x) => [x.last.at - 500, x.first.at + 2000]);
    const stills = run.slice(1).map((f, i) => ({ ms: f.at - run[i].at - 1000 / 30, end: f.at })).filter((g) => g.ms > 1000 / 30);
    const outside = stills.filter((g) => !spans.some(([a, b]) => g.end >= a && g.end - g.ms <= b));
    const errors = await w.page.evaluate(() => (window as any).sigmaPlayer.errors as { details: string; fatal: boolean }[]);
    const expected = acts.map((a) => `${a.from}→${a.to}`);
    const inOrder = changes.slice(0, expected.length).every((c, i) => c === expected[i]) && changes.length === expected.length;
    const failovers = seen.filter((s) => s.act.to === 'backup'), failbacks = seen.filter((s) => s.act.to === 'primary');
    const glass = frames.filter((f) => f.burned !== null).map((f) => f.at - f.burned!);
    const summary = (list: typeof seen) => ({
      screenGapMs: stats(list.map((s) => s.first.at - s.last.at)),
      longestStillMs: stats(list.map((s) => s.maxGapMs + 1000 / 30)),
      stillInAllMs: stats(list.map((s) => s.stillMs)),
      mediaSkippedMs: stats(list.flatMap((s) => (s.skippedMs === null ? [] : [s.skippedMs + 1000 / 30]))),
      actToScreenMs: stats(list.map((s) => s.actToScreenMs)),
      actToOriginMs: stats(list.map((s) => s.act.originMs)),
    });
    return {
      mode, switches: opts.switches, backup: opts.backup, inOrder, changesSeen: changes.length,
      wholeRun: {
        seconds: round((run.at(-1)!.at - run[0].at) / 1000, 1),
        stillMs: round(stills.reduce((a, g) => a + g.ms, 0), 0), stills: stills.length,
        outsideSwitchesMs: round(outside.reduce((a, g) => a + g.ms, 0), 0), outsideSwitches: outside.map((g) => round(g.ms, 0)),
        // What no switch's own span counted: stills between switches, or begun before a span (a viewer drained by earlier outages).
        notAtSwitchesMs: round(stills.reduce((a, g) => a + g.ms, 0) - seen.reduce((a, x) => a + x.stillMs, 0), 0),
        longestStills: stills.map((g) => round(g.ms, 0)).sort((a, b) => b - a).slice(0, 5),
        stallMonitor: { stalls: stalled.stalls, stalledMs: round(stalled.stalledMs, 0) },
      },
      glassMedianMs: round(median(glass), 0), unreadable: frames.filter((f) => f.source === null).length, frames: frames.length,
      playerErrors: { total: errors.length, fatal: errors.filter((e) => e.fatal).length, kinds: [...new Set(errors.map((e) => e.details))] },
      pageErrors: w.pageErrors,
      failover: summary(failovers),
      failoverByKind: Object.fromEntries((['SIGKILL', 'SIGSTOP'] as const).map((k) => [k, summary(failovers.filter((s) => s.act.kind === k))])),
      failback: summary(failbacks),
      perSwitch: seen.map((s) => ({
        kind: s.act.kind, screenGapMs: s.first.at - s.last.at, longestStillMs: round(s.maxGapMs + 1000 / 30, 0), stillEndsMsAfter: round(s.maxGapAt, 0), stillInAllMs: round(s.stillMs, 0),
        mediaSkippedMs: s.skippedMs === null ? null : round(s.skippedMs + 1000 / 30, 0), actToScreenMs: s.actToScreenMs, actToOriginMs: s.act.originMs,
        latencyBeforeMs: s.latencyBeforeMs,
      })),
    };
  } finally {
    await w.page.close();
    primary.kill('SIGCONT');
    await Promise.all([stopProcess(primary), backup && stopProcess(backup)]);
  }
}

/** An ffmpeg encoding what startPublisher would, to nowhere (`-f null -`): the load of an encoder without its stream. */
function startNullEncoder(): ChildProcess {
  const args = publisherArgs('rtmp://unused', { gop: 30, bitrate: '3M' });
  args.splice(args.length - 3, 3, '-f', 'null', '-');
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** CPU (% of one core) and RSS of an origin with one channel, with or without a hot backup publishing to it. */
async function resources(withBackup: boolean): Promise<Record<string, unknown>> {
  const o = await origin([{ id: 'res', streamKey: PRIMARY_KEY, backupStreamKeys: [BACKUP_KEY], latencyMode: 'ultra-low', failover: { slate: 'off' } }]);
  const primary = startPublisher(`rtmp://127.0.0.1:${o.ports.rtmp}/live/${PRIMARY_KEY}`, { gop: 30, bitrate: '3M' });
  let twin: ChildProcess | undefined;
  try {
    await until(async () => (await o.active('res')) === 'primary', 30_000, 'the primary on air', 100);
    twin = withBackup ? startPublisher(`rtmp://127.0.0.1:${o.ports.rtmp}/live/${BACKUP_KEY}`, { gop: 30, bitrate: '3M' }) : startNullEncoder();
    await sleep(opts.cpuWarmup * 1000);
    const first = procSample(o.pid);
    const rss: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i * 2 <= opts.cpuSec; i++) {
      await sleep(Math.max(0, t0 + i * 2000 - performance.now()));
      rss.push(procSample(o.pid).rssBytes / 2 ** 20);
    }
    const last = procSample(o.pid);
    if (primary.exitCode !== null || twin.exitCode !== null) throw new Error('an encoder exited during the measurement');
    const active = await o.active('res');
    return {
      backup: withBackup, active,
      cpuPctOfOneCore: round(((last.ticks - first.ticks) / CLK_TCK / ((last.t - first.t) / 1000)) * 100, 2),
      rssMiB: { median: round(median(rss), 1), last: round(rss.at(-1)!, 1), min: round(Math.min(...rss), 1), max: round(max(rss), 1) },
    };
  } finally {
    await Promise.all([stopProcess(primary), twin && stopProcess(twin)]);
    await o.stop();
  }
}

async function main(): Promise<void> {
  const skip = new Set(opts.skip.split(',').filter(Boolean));
  const loadAtStart = (await import('node:os')).loadavg().map((x) => round(x, 2));
  const res: Record<string, unknown>[] = [];
  if (!skip.has('resources')) {
    for (let r = 0; r < opts.cpuRounds; r++) {
      for (const withBackup of r % 2 === 0 ? [false, true] : [true, false]) {
        const x = await resources(withBackup);
        res.push({ round: r + 1, ...x });
        process.stderr.write(`[failover] resources, round ${r + 1}, ${withBackup ? 'primary + hot backup' : 'primary only'}: CPU ${x.cpuPctOfOneCore} % of a core, RSS median ${(x.rssMiB as any).median} MiB\n`);
        await sleep(2000);
      }
    }
  }
  const modes: Record<string, unknown>[] = [];
  if (!skip.has('failover')) {
    const list = opts.modes.split(',');
    const o = await origin(list.map((m) => ({
      id: `fo-${m}`, streamKey: `${PRIMARY_KEY}-${m}`, backupStreamKeys: [`${BACKUP_KEY}-${m}`], latencyMode: m, failover: { failbackAfterSec: 2, slate: 'off' },
    })));
    const browser = await launchChromium();
    try {
      for (const m of list) {
        modes.push(await failoverMode(o, browser, m));
        await sleep(2000);
      }
    } finally {
      await browser.close();
      await o.stop();
    }
  }
  const loadAtEnd = (await import('node:os')).loadavg().map((x) => round(x, 2));
  report('failover', {
    params: { ...opts, publishers: 'failover: 640x360 30 fps, GOP 0.5 s, burned clock + marker, x264 veryfast zerolatency 800k; resources: 1280x720 30 fps 3 Mb/s CBR, GOP 1 s' },
    loadavg: { start: loadAtStart, end: loadAtEnd },
    note: 'screenGapMs: first backup frame presented − last primary frame presented (a frame interval when seamless); longestStillMs: longest gap between presented frames from 0.5 s before to 2 s after; ' +
      'stillInAllMs: over the same span, each gap longer than two frame intervals less a frame interval, summed; ' +
      'mediaSkippedMs: burned clock of the first backup frame − of the last primary frame; actToScreenMs: kill/SIGSTOP to the first backup frame on screen (the viewer\'s latency included); actToOriginMs: to the API showing the backup on air (polled every 20 ms)',
    modes, resources: res,
  });
  for (const m of modes as any[]) {
    const f = m.failover, b = m.failback;
    process.stdout.write(`${m.mode.padEnd(9)} failover (${f.screenGapMs.n}): screen gap p50 ${f.screenGapMs.p50} p95 ${f.screenGapMs.p95} max ${f.screenGapMs.max} ms; ` +
      `longest still p50 ${f.longestStillMs.p50} p95 ${f.longestStillMs.p95} max ${f.longestStillMs.max} ms; still in all p50 ${f.stillInAllMs.p50} p95 ${f.stillInAllMs.p95} max ${f.stillInAllMs.max} ms; media skipped p50 ${f.mediaSkippedMs.p50} p95 ${f.mediaSkippedMs.p95} ms; ` +
      `act→origin p50 ${f.actToOriginMs.p50} p95 ${f.actToOriginMs.p95} ms; act→screen p50 ${f.actToScreenMs.p50} ms (glass to glass ${m.glassMedianMs} ms)` +
      `${m.inOrder ? '' : ` — the screen changed input ${m.changesSeen} times for ${2 * m.switches} switches`}\n`);
    const wr = m.wholeRun;
    process.stdout.write(`${''.padEnd(9)} whole run (${wr.seconds} s): still ${wr.stillMs} ms in ${wr.stills} stills (longest ${wr.longestStills.join(' ')}), ` +
      `${wr.notAtSwitchesMs} ms of it not in any switch's span (${wr.outsideSwitchesMs} ms clear of all spans); ` +
      `stall monitor ${wr.stallMonitor.stalls} stalls, ${wr.stallMonitor.stalledMs} ms\n`);
    process.stdout.write(`${''.padEnd(9)} failback (${b.screenGapMs.n}): screen gap p50 ${b.screenGapMs.p50} p95 ${b.screenGapMs.p95} ms; longest still p50 ${b.longestStillMs.p50} p95 ${b.longestStillMs.p95} max ${b.longestStillMs.max} ms; still in all p50 ${b.stillInAllMs.p50} p95 ${b.stillInAllMs.p95} max ${b.stillInAllMs.max} ms; ` +
      `player errors ${m.playerErrors.total} (fatal ${m.playerErrors.fatal})\n`);
  }
  for (const r of res as any[]) {
    process.stdout.write(`resources round ${r.round} ${r.backup ? 'primary + hot backup' : 'primary only       '}: CPU ${r.cpuPctOfOneCore} % of a core, RSS median ${r.rssMiB.median} MiB (${r.rssMiB.min}–${r.rssMiB.max})\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`failover failed: ${e.stack ?? e}\n`); process.exit(1); });
