/**
 * Scenario 4: CPU and RSS of the origin process for one 1280x720 30 fps ~3 Mb/s remux channel
 * (ultra-low) with one hls.js-like client (blocking playlist reloads + part downloads).
 *
 *   node dist/bench/resources.js [--duration 120] [--interval 10] [--settle 10] [--bitrate 3M] [--profile DIR] [--remuxOnly false]
 *        [--dvrSec 0] [--trimSec -1]
 *
 * --remuxOnly true turns the archive, thumbnails and the REST API off: the remux path alone.
 * --dvrSec N sets the DVR window (default: the config's, 2 h), so that a run can outlast it.
 * --trimSec N sets memory.trimIntervalSec (default: the config's, 30 s; 0 turns the trim off).
 *
 * The origin is `node dist/src/main.js --config <tmp>` in its own process; CPU is the delta of
 * utime+stime from /proc/<pid>/stat as % of one core, RSS is VmRSS from /proc/<pid>/status.
 */
import { threadTicks, CLK_TCK, flags, machine, median, pct, max, procSample, report, round, slope, startOriginProcess, startPublisher, stopProcess, waitFor200, sleep } from './common.js';

const opts = flags({ duration: 120, interval: 10, settle: 10, bitrate: '3M', gop: 30, profile: '', remuxOnly: false, dvrSec: 0, trimSec: -1 });

interface ClientStats { playlists: number; parts: number; bytes: number; errors: number; lastError?: string }

/** A player's live-edge loop: blocking reload for the next part, then fetch the parts it lists that are new. */
async function clientLoop(base: string, stop: AbortSignal, st: ClientStats): Promise<void> {
  let lastMsn = -1, lastIdx = -1;
  let query = '';
  await (await fetch(`${base}/index.m3u8`)).arrayBuffer();
  while (!stop.aborted) {
    try {
      const r = await fetch(`${base}/source.m3u8${query}`, { signal: AbortSignal.any([stop, AbortSignal.timeout(15000)]) });
      const text = await r.text();
      st.playlists++;
      if (r.status !== 200) { st.errors++; st.lastError = `playlist ${r.status}`; await sleep(200); query = ''; continue; }
      const parts = [...text.matchAll(/#EXT-X-PART:.*URI="([^"]+\/(\d+)\.(\d+)\.m4s)"/g)].map((m) => ({ uri: m[1], msn: Number(m[2]), idx: Number(m[3]) }));
      if (parts.length === 0) { await sleep(200); continue; }
      const fresh = lastMsn < 0 ? parts.slice(-3) : parts.filter((p) => p.msn > lastMsn || (p.msn === lastMsn && p.idx > lastIdx));
      for (const p of fresh) {
        const pr = await fetch(`${base}/${p.uri}`, { signal: stop });
        const buf = await pr.arrayBuffer();
        if (pr.status !== 200) { st.errors++; st.lastError = `part ${pr.status}`; continue; }
        st.parts++;
        st.bytes += buf.byteLength;
      }
      const last = parts[parts.length - 1];
      lastMsn = last.msn; lastIdx = last.idx;
      query = `?_HLS_msn=${last.msn}&_HLS_part=${last.idx + 1}`;
    } catch (e) {
      if (stop.aborted) return;
      st.errors++; st.lastError = String(e);
      await sleep(200);
      query = '';
    }
  }
}

async function main(): Promise<void> {
  const origin = await startOriginProcess({
    http2: { enabled: false },
    ...(opts.remuxOnly ? { archive: { enabled: false }, thumbnails: { enabled: false }, api: { enabled: false } } : {}),
    ...(opts.dvrSec > 0 ? { dvr: { windowSec: opts.dvrSec } } : {}),
    ...(opts.trimSec >= 0 ? { memory: { trimIntervalSec: opts.trimSec } } : {}),
    channels: [{ id: 'res', streamKey: 'bench-resources-key', latencyMode: 'ultra-low' }],
  }, opts.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`, '--cpu-prof-name=resources-origin.cpuprofile'] } : {});
  const pub = startPublisher(`rtmp://127.0.0.1:${origin.ports.rtmp}/live/bench-resources-key`, { gop: opts.gop, bitrate: opts.bitrate });
  const stop = new AbortController();
  const st: ClientStats = { playlists: 0, parts: 0, bytes: 0, errors: 0 };
  let client: Promise<void> | undefined;
  try {
    const base = `${origin.http}/live/res`;
    await waitFor200(`${base}/source.m3u8`, 30000, 'the stream');
    client = clientLoop(base, stop.signal, st);
    process.stderr.write(`[resources] origin pid ${origin.pid}, publisher pid ${pub.pid}; settling ${opts.settle} s, then ${opts.duration} s of samples every ${opts.interval} s\n`);
    await sleep(opts.settle * 1000);
    const first = procSample(origin.pid);
    const threads0 = threadTicks(origin.pid);
    const firstPub = procSample(pub.pid!);
    const firstBytes = st.bytes;
    const samples: { tSec: number; rssMiB: number; cpuPct: number; ffmpegCpuPct: number }[] = [];
    let prev = first, prevPub = firstPub;
    const n = Math.max(1, Math.round(opts.duration / opts.interval));
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) {
      // Sleep to the absolute tick so sampling does not drift.
      await sleep(Math.max(0, t0 + i * opts.interval * 1000 - performance.now()));
      if (pub.exitCode !== null) throw new Error(`publisher exited: ${pub.stderrText()}`);
      const s = procSample(origin.pid), sp = procSample(pub.pid!);
      const dt = (s.t - prev.t) / 1000;
      samples.push({
        tSec: round((s.t - first.t) / 1000, 1), rssMiB: round(s.rssBytes / 2 ** 20, 2),
        cpuPct: round(((s.ticks - prev.ticks) / CLK_TCK / dt) * 100, 2),
        ffmpegCpuPct: round(((sp.ticks - prevPub.ticks) / CLK_TCK / ((sp.t - prevPub.t) / 1000)) * 100, 1),
      });
      prev = s; prevPub = sp;
      const last = samples[samples.length - 1];
      process.stderr.write(`[resources] t=${last.tSec}s rss=${last.rssMiB} MiB cpu=${last.cpuPct}% (ffmpeg ${last.ffmpegCpuPct}%)\n`);
    }
    const last = procSample(origin.pid);
    const threads1 = threadTicks(origin.pid);
    const wall = (last.t - first.t) / 1000;
    const cpus = samples.map((s) => s.cpuPct);
    const rss = samples.map((s) => s.rssMiB);
    const slopePerMin = slope(samples.map((s) => s.tSec / 60), rss);
    // Minute table: RSS at the end of each minute, CPU averaged over the minute.
    const perMinute: { minute: number; rssMiB: number; cpuPct: number }[] = [];
    const perMin = Math.round(60 / opts.interval);
    for (let m = 0; m * perMin < samples.length; m++) {
      const chunk = samples.slice(m * perMin, (m + 1) * perMin);
      if (chunk.length < perMin) break;
      perMinute.push({ minute: m + 1, rssMiB: chunk[chunk.length - 1].rssMiB, cpuPct: round(chunk.reduce((a, s) => a + s.cpuPct, 0) / chunk.length, 2) });
    }
    const result = {
      params: { ...opts },
      cpuPctOfOneCore: { overall: round(((last.ticks - first.ticks) / CLK_TCK / wall) * 100, 2), median: round(median(cpus), 2), p95: round(pct(cpus, 95), 2), max: round(max(cpus), 2) },
      rssMiB: { first: rss[0], last: rss[rss.length - 1], min: Math.min(...rss), max: max(rss), slopeMiBPerMin: round(slopePerMin, 4) },
      // CPU by thread name over the whole run (main JS thread 'node', libuv/V8 workers, the addon's threads).
      cpuPctByThread: Object.fromEntries([...threads1].map(([k, v]) => [k, round(((v - (threads0.get(k) ?? 0)) / CLK_TCK / wall) * 100, 2)]).filter(([, v]) => (v as number) > 0)),
      ffmpegCpuPctMedian: round(median(samples.map((s) => s.ffmpegCpuPct)), 1),
      client: { ...st, mbps: round(((st.bytes - firstBytes) * 8) / wall / 1e6, 2) },
      perMinute, samples,
    };
    report('resources', result);
    process.stdout.write(`resources: origin CPU ${result.cpuPctOfOneCore.overall}% of one core (median of ${opts.interval}s samples ${result.cpuPctOfOneCore.median}%, p95 ${result.cpuPctOfOneCore.p95}%), ` +
      `RSS ${result.rssMiB.first} → ${result.rssMiB.last} MiB (slope ${result.rssMiB.slopeMiBPerMin} MiB/min), ` +
      `client ${result.client.mbps} Mb/s, ${st.parts} parts, ${st.errors} errors; target ≤ 1% and flat [${machine().cpu}]\n`);
  } finally {
    stop.abort();
    await stopProcess(pub);
    await client?.catch(() => undefined);
    await origin.stop();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`resources failed: ${e.stack ?? e}\n`); process.exit(1); });
