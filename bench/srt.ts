/**
 * Scenario 14 (issue 20): what an SRT channel costs the origin against an RTMP channel, the same
 * media in the same run.
 *
 *   node dist/bench/srt.js [--channels 4] [--seconds 20] [--rounds 4] [--settle 5] [--width 640] [--height 360] [--bitrate 1M]
 *
 * One origin process (`node dist/src/main.js`, defaults but thumbnails off and SRT on a free
 * port), `channels` channels. Each round publishes every channel with ffmpeg (bench/common.ts
 * publisherArgs: the same testsrc2 + sine, x264 veryfast zerolatency CBR, AAC) first over one
 * transport, then over the other (the order alternating from round to round): over RTMP (FLV)
 * or over SRT (MPEG-TS, streamid = the key, 120 ms latency). After every channel lists two
 * segments and `settle` s, `seconds` s of /proc/<pid>/stat of the origin: its CPU in all, its
 * main thread's (the event loop: RTMP parsing happens there, SRT's receive and demux on the
 * addon's threads), and its RSS. Reported: medians over rounds per transport, per channel, and
 * SRT ÷ RTMP. Everything on 127.0.0.1 (SRT over UDP loopback: no loss, so no retransmits).
 */
import { cpus, loadavg } from 'node:os';
import {
  CLK_TCK, flags, freePort, median, procSample, publisherArgs, report, round, sleep, startOriginProcess, stopProcess, threadTicks, waitFor200,
} from './common.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

const opts = flags({ channels: 4, seconds: 20, rounds: 4, settle: 5, width: 640, height: 360, bitrate: '1M' });
type Transport = 'rtmp' | 'srt';

function mainThreadTicks(pid: number): number {
  for (const [name, ticks] of threadTicks(pid)) if (name.endsWith('(main)')) return ticks;
  return NaN;
}

async function main(): Promise<void> {
  const N = opts.channels;
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const srtPort = await freePort();
  const keys = Array.from({ length: N }, (_, i) => `bench-srt-key-${i}-0123456789`);
  const origin = await startOriginProcess({
    srt: { enabled: true, host: '127.0.0.1', port: srtPort },
    thumbnails: { enabled: false },
    reconnectWindowSec: 2,
    channels: keys.map((streamKey, i) => ({ id: `ch${i}`, streamKey, latencyMode: 'ultra-low' })),
  });
  // /healthz answers once HTTP is up; ingest opens last (after the database and the API).
  for (let up = false; !up;) {
    up = await new Promise<boolean>((resolve) => { const s = connect(origin.ports.rtmp!, '127.0.0.1', () => { s.destroy(); resolve(true); }); s.on('error', () => resolve(false)); });
    if (!up) await sleep(100);
  }
  await sleep(500); // the SRT listener opens right after RTMP's
  const urlOf = (t: Transport, i: number) => (t === 'rtmp'
    ? `rtmp://127.0.0.1:${origin.ports.rtmp}/live/${keys[i]}`
    : `srt://127.0.0.1:${srtPort}?streamid=${encodeURIComponent(`#!::r=live/${keys[i]},m=publish`)}&latency=120000`);
  const rows: { transport: Transport; round: number; cpuPct: number; mainPct: number; rssMb: number }[] = [];
  try {
    for (let r = 0; r < opts.rounds; r++) {
      const order: Transport[] = r % 2 === 0 ? ['rtmp', 'srt'] : ['srt', 'rtmp'];
      for (const transport of order) {
        const pubs: ChildProcess[] = keys.map((_, i) => spawn('ffmpeg', publisherArgs(urlOf(transport, i), {
          gop: 30, width: opts.width, height: opts.height, bitrate: opts.bitrate, format: transport === 'rtmp' ? 'flv' : 'mpegts',
        }), { stdio: 'ignore' }));
        try {
          for (let i = 0; i < N; i++) await waitFor200(`${origin.http}/live/ch${i}/index.m3u8`, 30_000, `ch${i} over ${transport}`);
          await sleep(opts.settle * 1000);
          const a = procSample(origin.pid), am = mainThreadTicks(origin.pid);
          const rss: number[] = [];
          for (let s = 0; s < opts.seconds; s += 2) { await sleep(2000); rss.push(procSample(origin.pid).rssBytes); }
          const b = procSample(origin.pid), bm = mainThreadTicks(origin.pid);
          const secs = (b.t - a.t) / 1000;
          rows.push({ transport, round: r, cpuPct: round((100 * (b.ticks - a.ticks)) / CLK_TCK / secs, 1), mainPct: round((100 * (bm - am)) / CLK_TCK / secs, 1), rssMb: round(median(rss) / 2 ** 20, 1) });
          console.error(JSON.stringify(rows[rows.length - 1]));
        } finally {
          await Promise.all(pubs.map((p) => stopProcess(p)));
          await sleep(4000); // the channels end (reconnect window 2 s) before the other transport publishes
        }
      }
    }
  } finally {
    await origin.stop();
  }
  const of = (t: Transport, k: 'cpuPct' | 'mainPct' | 'rssMb') => median(rows.filter((x) => x.transport === t).map((x) => x[k]));
  const summary = {
    rtmp: { cpuPctPerChannel: round(of('rtmp', 'cpuPct') / N, 2), mainThreadPctPerChannel: round(of('rtmp', 'mainPct') / N, 2), rssMb: of('rtmp', 'rssMb') },
    srt: { cpuPctPerChannel: round(of('srt', 'cpuPct') / N, 2), mainThreadPctPerChannel: round(of('srt', 'mainPct') / N, 2), rssMb: of('srt', 'rssMb') },
    srtOverRtmp: round(of('srt', 'cpuPct') / of('rtmp', 'cpuPct'), 2),
  };
  report('srt', { params: { ...opts, cpus: cpus().length, loadAtStart, loadAtEnd: loadavg().map((x) => round(x, 2)) }, rows, summary });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
