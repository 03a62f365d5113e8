/**
 * Backup inputs with real encoders: two ffmpeg publishers on one channel (the primary 640x360,
 * the backup 480x270, so the segments tell them apart), the origin's health tick and switch, and
 * the playlist a player reads. The primary is killed (SIGKILL), then stopped while connected
 * (SIGSTOP: the socket stays open, nothing comes), then an operator switches through the API.
 * Each time the playlist goes on with contiguous MSNs, a discontinuity and the backup's init,
 * the events say why, and the status shows which input is on air.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { probeListing } from '../helpers/listing-probe.js';
import { followMultivariant } from '../helpers/conformance/follower.js';
import { formatViolations } from '../helpers/conformance/report.js';
import type { ChannelView } from '../../src/api/channel-lookup.js';

const execFileP = promisify(execFile);
const ADMIN = 'backup-inputs-admin-token-0123456789abcdef';
const PRIMARY_KEY = 'bk-primary-key-0123', BACKUP_KEY = 'bk-backup-key-0123';
/** A keyframe every half second: the switch waits at most that long for one. */
const PRIMARY = { fps: 30, gop: 15, width: 640, height: 360 };
const BACKUP = { fps: 30, gop: 15, width: 480, height: 270 };

t.test('primary killed, stalled, switched by hand: the backup takes over at a keyframe and the playlist goes on', async (t) => {
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    srt: { enabled: false }, rtmp: { port: 0, host: '127.0.0.1', idleTimeoutSec: 30 },
    channels: [{ id: 'bk', streamKey: PRIMARY_KEY, backupStreamKeys: [BACKUP_KEY], latencyMode: 'ultra-low',
      failover: { failbackAfterSec: 2, slate: 'off' } }],
  });
  t.teardown(() => o.close());
  const api = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`http://127.0.0.1:${o.ports.api}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    return { status: r.status, json: await r.json() as any };
  };
  const inputs = async () => ((await api('/v1/channels/bk')).json as ChannelView).status!.inputs;
  const activeIs = (name: string, what: string, ms = 5000) => waitUntil(async () => (await inputs()).active === name, ms, what, 50);

  let primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  t.teardown(() => stopPublisher(primary));
  await waitUntil(async () => (await fetch(`${o.http}/live/bk/source.m3u8`)).status === 200, 20_000, 'the primary on air');
  const backup = startPublisher(o.rtmp(BACKUP_KEY), BACKUP);
  t.teardown(() => stopPublisher(backup));
  await waitUntil(async () => (await inputs()).inputs.filter((i) => i.healthy).length === 2, 10_000, 'both inputs healthy');
  await new Promise((r) => setTimeout(r, 1500)); // a whole second of the backup's bytes
  const s0 = await inputs();
  t.match(s0, { active: 'primary', failovers: 0, inputs: [{ name: 'primary', active: true, healthy: true, problem: null, remoteAddress: '127.0.0.1' },
    { name: 'backup1', active: false, healthy: true, problem: null }] }, 'both inputs in the status, the primary on air');
  t.ok(s0.inputs[1].bitrateKbps > 100, `the standby backup is ingested (${s0.inputs[1].bitrateKbps} kb/s)`);
  // A third publisher on a busy input is refused; the channel goes on.
  const intruder = startPublisher(o.rtmp(BACKUP_KEY), { ...BACKUP, durationSec: 3 });
  const code = await new Promise((r) => intruder.once('exit', r));
  t.not(code, 0, 'a second publisher on the backup input is refused');

  const probe = probeListing(`${o.http}/live/bk/source.m3u8`, { intervalMs: 100 });
  await new Promise((r) => setTimeout(r, 3000));

  // 1. SIGKILL: the socket closes, the switch happens at the backup's next keyframe.
  const killedAt = Date.now();
  primary.kill('SIGKILL');
  await activeIs('backup1', 'the backup on air after the kill');
  t.comment(`on the backup ${Date.now() - killedAt} ms after the kill (as the API sees it)`);
  t.ok(Date.now() - killedAt < 1500, 'within a keyframe interval and a tick');

  // 2. The primary returns: after failbackAfterSec of health it is back on air.
  primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  await activeIs('primary', 'failback to the primary', 15_000);

  // 3. SIGSTOP: connected but silent; the stall (180 ms in ultra-low) moves the air.
  await new Promise((r) => setTimeout(r, 2000));
  const stoppedAt = Date.now();
  primary.kill('SIGSTOP');
  await activeIs('backup1', 'the backup on air after the stall');
  t.comment(`on the backup ${Date.now() - stoppedAt} ms after SIGSTOP`);
  t.match((await inputs()).inputs[0], { name: 'primary', healthy: false, problem: 'stalled' }, 'the silent primary is shown stalled');
  primary.kill('SIGCONT');
  await activeIs('primary', 'failback after the stall', 15_000);

  // 4. By hand: the backup, held on air (no auto failback) until it fails.
  const bad = await api('/v1/channels/bk/inputs/backup2/activate', { method: 'POST' });
  t.match(bad, { status: 409, json: { error: { code: 'INPUT_NOT_READY', message: /backup2 is not connected/ } } });
  t.equal((await api('/v1/channels/bk/inputs/nonsense/activate', { method: 'POST' })).status, 400, 'an unknown input name is a 400');
  const manual = await api('/v1/channels/bk/inputs/backup1/activate', { method: 'POST' });
  t.equal(manual.status, 200);
  await activeIs('backup1', 'the operator\'s choice on air');
  await new Promise((r) => setTimeout(r, 3500));
  t.equal((await inputs()).active, 'backup1', 'held: no auto failback after failbackAfterSec');
  t.equal((await api('/v1/channels/bk/inputs/primary/activate', { method: 'POST' })).status, 200);
  await activeIs('primary', 'back to the primary by hand');
  await new Promise((r) => setTimeout(r, 2500));

  const listed = await probe.stop();
  t.same(probe.errors, [], 'the playlist answered 200 throughout');
  const msns = listed.map((s) => s.msn);
  t.ok(msns.every((m, i) => i === 0 || m === msns[i - 1] + 1), `MSNs contiguous across every switch (${msns[0]}…${msns.at(-1)})`);
  const pdts = listed.map((s) => s.pdtMs);
  t.ok(pdts.every((p, i) => i === 0 || p > pdts[i - 1]), 'PROGRAM-DATE-TIME only goes forward');
  // The encoders' clocks both start at 0, seconds apart: mapped through the wall clock, each
  // segment is listed about when its PDT + duration comes: later by the probe's interval and a
  // request, earlier by as much as the session's first frame was late (its arrival sets the
  // channel's clock), before and after every switch.
  const delays = listed.map((s) => s.delayMs);
  t.ok(delays.every((d) => d > -250 && d < 1500), `PROGRAM-DATE-TIME true to the wall clock across switches (listed ${Math.min(...delays)}…${Math.max(...delays)} ms after PDT + EXTINF)`);
  const discontinuities = listed.filter((s) => s.discontinuity).length;
  t.ok(discontinuities >= 6, `a discontinuity at each of the 6 switches (${discontinuities})`);

  // The full playlist (DVR window): each switch ends a segment and starts the other input's init.
  const text = await (await fetch(`${o.http}/live/bk/source.m3u8`)).text();
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  const maps = new Set((manifest.segments as { map?: { uri: string } }[]).map((s) => s.map?.uri));
  t.ok(maps.size >= 7, `a new EXT-X-MAP after each switch (${maps.size} inits)`);

  const events = (await api('/v1/events?channelId=bk&limit=100')).json.items as { type: string; payload: Record<string, unknown> }[];
  const switches = events.filter((e) => e.type.startsWith('input.')).reverse()
    .map(({ type, payload: p }) => `${type} ${p.from}→${p.to ?? p.input} (${p.reason})`);
  t.same(switches, [
    'input.failover primary→backup1 (disconnected)', 'input.restored backup1→primary (failback)',
    'input.failover primary→backup1 (stalled)', 'input.restored backup1→primary (failback)',
    'input.failover primary→backup1 (manual)', 'input.restored backup1→primary (manual)',
  ], 'the events, in order, with their reasons');
  t.equal((await inputs()).failovers, 3);

  const metrics = await (await fetch(`http://127.0.0.1:${o.ports.api}/metrics`)).text();
  t.match(metrics, /sigma_channel_input_active\{channel="bk",input="primary"\} 1\n/, 'metrics: the primary on air');
  t.match(metrics, /sigma_channel_input_active\{channel="bk",input="backup1"\} 0\n/);
  t.match(metrics, /sigma_channel_input_healthy\{channel="bk",input="backup1"\} 1\n/);
  t.match(metrics, /sigma_channel_failovers_total\{channel="bk"\} 3\n/, 'metrics: three failovers');
});

/**
 * What hangs off the source follows a switch: the ABR rung is re-encoded from the backup and its
 * playlist goes on (contiguous MSNs, a discontinuity), and the recording closes the primary's
 * file at the switch and records the backup into the next (its init differs).
 */
t.test('the ladder and the recording follow the switch', async (t) => {
  const o = await startOrigin({
    channels: [{ id: 'bl', streamKey: PRIMARY_KEY, backupStreamKeys: [BACKUP_KEY], latencyMode: 'low', transcode: '240p', record: true,
      failover: { slate: 'off' } }],
  });
  t.teardown(() => o.close());
  const primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  t.teardown(() => stopPublisher(primary));
  await waitUntil(async () => (await fetch(`${o.http}/live/bl/240p.m3u8`)).status === 200, 20_000, 'the rung on air');
  const backup = startPublisher(o.rtmp(BACKUP_KEY), BACKUP);
  t.teardown(() => stopPublisher(backup));
  const channel = o.origin.channels.get('bl')!;
  await waitUntil(() => channel.inputs.status().inputs.filter((i) => i.healthy).length === 2, 10_000, 'both inputs healthy');
  const rung = probeListing(`${o.http}/live/bl/240p.m3u8`, { intervalMs: 200 });
  await new Promise((r) => setTimeout(r, 4000));
  primary.kill('SIGKILL');
  await waitUntil(() => channel.inputs.status().active === 'backup1', 5000, 'the backup on air');
  await new Promise((r) => setTimeout(r, 6000));
  const listed = await rung.stop();
  const msns = listed.map((s) => s.msn);
  t.ok(msns.length >= 4 && msns.every((m, i) => i === 0 || m === msns[i - 1] + 1), `rung MSNs contiguous across the switch (${msns.join(' ')})`);
  t.equal(listed.filter((s) => s.discontinuity).length, 1, 'one discontinuity on the rung');
  const rungText = await (await fetch(`${o.http}/live/bl/240p.m3u8`)).text();
  t.match(rungText, /#EXT-X-DISCONTINUITY/);
  await stopPublisher(backup);
  await waitUntil(() => channel.state !== 'live', 10_000, 'the session over');
  const dir = `${o.config.dataDir}/recordings/bl`;
  const files = await waitUntil(() => {
    const f = readdirSync(dir).filter((n) => n.endsWith('.mp4'));
    return f.length >= 2 && f;
  }, 10_000, 'two recording files');
  const sizes = await Promise.all(files.sort().map(async (f) => probeSize(join(dir, f))));
  t.same(sizes, ['640x360', '480x270'], 'the primary\'s file, then the backup\'s');
});

/** Width x height of a recording's video, read by ffprobe. */
async function probeSize(file: string): Promise<string> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', file]);
  return stdout.trim();
}

/**
 * Both inputs gone: the slate (the generated card, encoded by the addon at the source's format)
 * keeps the playlist advancing in real time until an input returns; the live picture is back at
 * that input's first keyframe. The slate time is in the archive's session list; when nothing
 * returns within the reconnect window the session ends.
 */
t.test('no input left: the slate plays on until an input returns, then the live picture', async (t) => {
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    reconnectWindowSec: 6,
    channels: [{ id: 'sl', streamKey: PRIMARY_KEY, backupStreamKeys: [BACKUP_KEY], latencyMode: 'ultra-low' }],
  });
  t.teardown(() => o.close());
  const channel = o.origin.channels.get('sl')!;
  const primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  t.teardown(() => stopPublisher(primary));
  await waitUntil(async () => (await fetch(`${o.http}/live/sl/source.m3u8`)).status === 200, 20_000, 'the primary on air');
  let backup = startPublisher(o.rtmp(BACKUP_KEY), BACKUP);
  t.teardown(() => stopPublisher(backup));
  await waitUntil(() => channel.inputs.status().inputs.filter((i) => i.healthy).length === 2, 10_000, 'both inputs healthy');
  const probe = probeListing(`${o.http}/live/sl/source.m3u8`, { intervalMs: 100 });
  await new Promise((r) => setTimeout(r, 2000));

  primary.kill('SIGKILL');
  backup.kill('SIGKILL');
  const goneAt = Date.now();
  await waitUntil(() => channel.inputs.status().active === 'slate', 3000, 'the slate on air');
  await new Promise((r) => setTimeout(r, 5000));
  t.equal(channel.state, 'live', 'the channel stays live on the slate');
  const slateMsn = probe.segments.filter((s) => s.pdtMs > goneAt + 500).at(-1)?.msn;
  t.ok(slateMsn, 'segments keep coming while no input is on');
  const slateSeg = await fetch(`${o.http}/live/sl/source/${slateMsn}.m4s`);
  t.equal(slateSeg.status, 200);

  backup = startPublisher(o.rtmp(BACKUP_KEY), BACKUP);
  const backAt = Date.now();
  await waitUntil(() => channel.inputs.status().active === 'backup1', 10_000, 'the backup back on air');
  const onAirAfterMs = Date.now() - backAt;
  t.comment(`the returning backup on air ${onAirAfterMs} ms after ffmpeg started (connect, handshake, first keyframe)`);
  await new Promise((r) => setTimeout(r, 3000));
  const listed = await probe.stop();
  const msns = listed.map((s) => s.msn);
  t.ok(msns.every((m, i) => i === 0 || m === msns[i - 1] + 1), `MSNs contiguous through the slate (${msns[0]}…${msns.at(-1)})`);
  const gapsMs = listed.slice(1).map((s, i) => s.pdtMs - (listed[i].pdtMs + listed[i].durationMs));
  t.ok(gapsMs.every((g) => g < 1000), `the playlist's timeline has no hole over a second (largest ${Math.max(...gapsMs)} ms)`);
  t.ok(listed.filter((s) => s.discontinuity).length >= 2, 'discontinuities into and out of the slate');
  const slateSegments = listed.filter((s) => s.pdtMs >= goneAt && s.pdtMs < backAt);
  const slateMs = slateSegments.reduce((n, s) => n + s.durationMs, 0);
  t.ok(slateMs > 0.7 * (backAt - goneAt), `the slate filled the time without an input (${slateMs} ms of ${backAt - goneAt})`);

  // The slate time is in the archive: the session's slate interval.
  const sessions = await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/sl/sessions`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as
    { items: { slates: { startedAt: string; endedAt: string }[] }[] };
  const slates = sessions.items.at(-1)!.slates;
  t.equal(slates.length, 1, 'one slate time in the session');
  const [from, to] = [Date.parse(slates[0].startedAt), Date.parse(slates[0].endedAt)];
  t.ok(Math.abs(from - goneAt) < 1500 && to > from && to <= Date.now(), `slate from ${from - goneAt} ms after the inputs died, ${to - from} ms long`);

  // Gone again, for good: the slate covers the reconnect window (6 s), then the session ends.
  backup.kill('SIGKILL');
  await waitUntil(() => channel.inputs.status().active === 'slate', 3000, 'the slate again');
  await waitUntil(() => channel.state === 'ended', 12_000, 'the session to end after the reconnect window');
  t.match(await (await fetch(`${o.http}/live/sl/source.m3u8`)).text(), /#EXT-X-ENDLIST/, 'the playlist ends');
});

t.test("slate 'gap': the playlists (source and rung) go on with EXT-X-GAP while no input is on, conform throughout, and the publisher's return follows the gap", async (t) => {
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    reconnectWindowSec: 30,
    channels: [{ id: 'gp', streamKey: PRIMARY_KEY, latencyMode: 'ultra-low', transcode: '240p', failover: { slate: 'gap' } }],
  });
  t.teardown(() => o.close());
  const channel = o.origin.channels.get('gp')!;
  let primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  t.teardown(() => stopPublisher(primary));
  await waitUntil(async () => (await fetch(`${o.http}/live/gp/240p.m3u8`)).status === 200, 20_000, 'the rung on air');
  const source = probeListing(`${o.http}/live/gp/source.m3u8`, { intervalMs: 100 });
  const rung = probeListing(`${o.http}/live/gp/240p.m3u8`, { intervalMs: 200 });
  // The checker follows every playlist (blocking reloads, delta updates, the parts and segments listed) through the gap and back.
  const follow = followMultivariant(`${o.http}/live/gp/index.m3u8`, { reloads: 150, pollingReloads: 15, skip: 'alternate', maxPollIntervalMs: 1000, compareSegments: 2 });
  await new Promise((r) => setTimeout(r, 3000));

  primary.kill('SIGKILL');
  const goneAt = Date.now();
  await waitUntil(() => channel.inputs.status().active === 'gap', 3000, 'the gap on air');
  await new Promise((r) => setTimeout(r, 5000));
  t.equal(channel.state, 'live', 'the channel stays live through the gap');
  const during = await (await fetch(`${o.http}/live/gp/source.m3u8`)).text();
  const gapSegment = /#EXT-X-GAP\n#EXTINF:[\d.]+,\n(source\/(\d+)\.m4s)/.exec(during);
  t.ok(gapSegment, 'complete gap segments are listed with EXT-X-GAP');
  const gapPart = /URI="(source\/\d+\.\d+\.m4s)",INDEPENDENT=YES,GAP=YES/.exec(during);
  t.ok(gapPart, 'gap parts are listed with GAP=YES');
  t.notMatch(during, /PRELOAD-HINT/, 'no preload hint while the playlist ends in a gap');
  for (const uri of [gapSegment?.[1], gapPart?.[1]]) {
    const r = await fetch(`${o.http}/live/gp/${uri}`);
    t.match({ status: r.status, body: await r.json() }, { status: 404, body: { error: { code: 'GAP' } } }, `${uri}: 404 with a JSON reason`);
  }
  t.match(await (await fetch(`${o.http}/live/gp/240p.m3u8`)).text(), /#EXT-X-GAP\n/, 'the rung\'s playlist goes on with gaps too');
  t.match((await (await fetch(`${o.http}/live/gp/index.m3u8`)).text()), /240p\.m3u8/, 'the multivariant playlist still lists the ladder');

  primary = startPublisher(o.rtmp(PRIMARY_KEY), PRIMARY);
  const backAt = Date.now();
  await waitUntil(() => channel.inputs.status().active === 'primary', 10_000, 'the publisher back on air');
  await waitUntil(async () => /#EXT-X-PRELOAD-HINT/.test(await (await fetch(`${o.http}/live/gp/source.m3u8`)).text()), 5000, 'media again (the hint is back)');
  const mediaBackMs = Date.now() - backAt;
  await new Promise((r) => setTimeout(r, 3000));
  const after = await (await fetch(`${o.http}/live/gp/source.m3u8`)).text();
  t.match(after, /#EXT-X-GAP\n#EXTINF:[\d.]+,\nsource\/\d+\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="source\/init-\d+\.mp4"\n/, 'the last gap segment, then a discontinuity and the new init');

  for (const [name, probe] of [['source', source], ['240p', rung]] as const) {
    const listed = await probe.stop();
    const msns = listed.map((s) => s.msn);
    t.ok(msns.every((m, i) => i === 0 || m === msns[i - 1] + 1), `${name}: MSNs contiguous through the gap (${msns[0]}…${msns.at(-1)})`);
    const holes = listed.slice(1).map((s, i) => s.pdtMs - (listed[i].pdtMs + listed[i].durationMs));
    t.ok(holes.every((g) => g > -50 && g < 1000), `${name}: the timeline goes on without a hole over a second or an overlap (${Math.min(...holes)}…${Math.max(...holes)} ms)`);
    const covered = listed.filter((s) => s.pdtMs >= goneAt && s.pdtMs + s.durationMs <= backAt).reduce((n, s) => n + s.durationMs, 0);
    t.ok(covered > 0.7 * (backAt - goneAt), `${name}: gap segments cover the time without an input (${covered} ms of ${backAt - goneAt})`);
  }
  const result = await follow;
  t.equal(result.total, 0, `the checker finds no violation through the gap and back: ${formatViolations(result.groups)}`);
  t.ok((result.playlists.get(`${o.http}/live/gp/source.m3u8`)?.blocking ?? 0) > 20, 'the checker made blocking reloads of the source playlist');
  const sessions = await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/gp/sessions`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as
    { items: { slates: { startedAt: string; endedAt: string }[] }[] };
  t.equal(sessions.items.at(-1)!.slates.length, 1, 'the gap time is in the archive, as slate time is');
  t.comment(`gap mode: media listed again ${mediaBackMs} ms after the publisher restarted (ffmpeg start, handshake, first keyframe, first part)`);
});
