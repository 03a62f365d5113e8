import t from 'tap';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, startSrtPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { captureLogs } from '../helpers/log-capture.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { startLossRelay } from '../helpers/udp-loss-relay.js';
import { seededRandom } from '../helpers/seeded-random.js';

const run = promisify(execFile);
const ADMIN = 'srt-admin-token-0123456789abcdef0123456789';
const PASSPHRASE = 'correct-horse-battery';

/** ffmpeg decodes `seconds` of the channel's HLS: the errors it printed ('' when clean). */
async function decodeErrors(o: RunningOrigin, channel: string, seconds = 3): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', `${o.http}/live/${channel}/source.m3u8`, '-t', String(seconds), '-f', 'null', '-'], { timeout: 40_000 });
  return stderr.trim();
}

async function live(o: RunningOrigin, channel: string, segments = 2): Promise<any> {
  return waitUntil(async () => {
    const r = await fetch(`${o.http}/live/${channel}/source.m3u8`);
    if (r.status !== 200) return undefined;
    const m = parseM3u8(await r.text()).manifest;
    return m.segments.length >= segments ? m : undefined;
  }, 30_000, `${segments} segments of ${channel}`);
}

/** Whether an ffmpeg publisher gave up (refused) within ms, and its stderr. */
async function refused(p: ReturnType<typeof startPublisher>, ms = 15_000): Promise<boolean> {
  const timer = setTimeout(() => p.kill('SIGKILL'), ms);
  const [code] = await once(p, 'exit');
  clearTimeout(timer);
  return code !== 0;
}

t.test('SRT ingest with real ffmpeg: streamid forms, a passphrase, refusals with reasons, 5 % loss', async (t) => {
  const { logger, lines } = captureLogs('info');
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    channels: [
      { id: 'open', streamKey: 'open-key-123456', latencyMode: 'ultra-low' },
      { id: 'locked', streamKey: 'locked-key-123456', latencyMode: 'ultra-low', srtPassphrase: PASSPHRASE },
      { id: 'lossy', streamKey: 'lossy-key-123456', latencyMode: 'low' },
    ],
  }, { logger });
  t.teardown(() => o.close());
  const port = o.ports.srt!;
  t.ok(port > 0, `SRT listening on UDP ${port}`);
  const refusals = () => lines.filter((l) => l.msg === 'publish refused' && l.component === 'srt');

  await t.test('the access-control streamid (#!::r=live/<key>,m=publish) publishes; the HLS decodes; libsrt\'s figures are the ingest\'s', async (t) => {
    const p = startSrtPublisher({ port, streamId: '#!::r=live/open-key-123456,m=publish', audio: true, fps: 30, gop: 30 });
    t.teardown(() => stopPublisher(p));
    const m = await live(o, 'open');
    t.ok(m.segments.length >= 2, 'live over SRT');
    t.equal(await decodeErrors(o, 'open'), '', 'ffmpeg decodes the channel\'s HLS without an error');
    const mv = parseM3u8(await (await fetch(`${o.http}/live/open/index.m3u8`)).text()).manifest.playlists[0];
    t.match(mv.attributes.CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, `H.264 and AAC (${mv.attributes.CODECS})`);
    const ch = await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/open`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as any;
    t.match(ch.status.ingest, { publishing: true, publisher: { software: 'SRT' }, transport: { protocol: 'srt', latencyMs: 120 } }, 'the channel\'s ingest: SRT, its latency');
    t.ok(ch.status.ingest.transport.packetsReceived > 100 && ch.status.ingest.transport.rttMs >= 0, `packets ${ch.status.ingest.transport.packetsReceived}, RTT ${ch.status.ingest.transport.rttMs} ms`);
    const metrics = await (await fetch(`http://127.0.0.1:${o.ports.api}/metrics`)).text();
    t.match(metrics, /sigma_ingest_srt_rtt_seconds\{channel="open"\} [0-9.e-]+/, '/metrics: the SRT RTT');
    t.match(metrics, /sigma_ingest_srt_lost_packets_total\{channel="open"\} 0/, '/metrics: no loss on loopback');
  });

  await t.test('a channel with a passphrase: the right one publishes; none, or a wrong one, never connects', async (t) => {
    const none = startSrtPublisher({ port, streamId: 'locked-key-123456', audio: false });
    t.ok(await refused(none), 'without the passphrase: refused by the SRT handshake');
    const wrong = startSrtPublisher({ port, streamId: 'locked-key-123456', passphrase: 'not-the-passphrase', audio: false });
    t.ok(await refused(wrong), 'with a wrong one: refused');
    t.equal((await fetch(`${o.http}/live/locked/source.m3u8`)).status, 404, 'the channel stayed idle');
    const right = startSrtPublisher({ port, streamId: 'live/locked-key-123456', passphrase: PASSPHRASE, audio: true });
    t.teardown(() => stopPublisher(right));
    await live(o, 'locked');
    t.equal(await decodeErrors(o, 'locked', 2), '', 'with it (and the live/<key> form): live, and the media decodes (decrypted)');
  });

  await t.test('an API channel with a passphrase (set through the API) publishes over SRT with it', async (t) => {
    const created = await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'field', name: 'Field', autoStart: true, srtPassphrase: 'field-passphrase-42' }),
    })).json() as { srtEncrypted: boolean; streamKey: { secret: string } };
    t.equal(created.srtEncrypted, true);
    t.ok(await refused(startSrtPublisher({ port, streamId: created.streamKey.secret, audio: false })), 'without the passphrase: refused');
    const p = startSrtPublisher({ port, streamId: `#!::r=live/${created.streamKey.secret},m=publish`, passphrase: 'field-passphrase-42', audio: false });
    t.teardown(() => stopPublisher(p));
    await live(o, 'field');
    t.pass('with it: live (an API key, checked by its digest during the handshake)');
  });

  await t.test('refusals: an unknown key, a busy channel, a playback request; each logged with its reason', async (t) => {
    const before = refusals().length;
    t.ok(await refused(startSrtPublisher({ port, streamId: '#!::r=live/no-such-key,m=publish', audio: false })), 'unknown key refused');
    t.ok(await refused(startSrtPublisher({ port, streamId: '#!::r=live/open-key-123456,m=request', audio: false })), 'm=request refused');
    const first = startSrtPublisher({ port, streamId: 'open-key-123456', audio: false });
    t.teardown(() => stopPublisher(first));
    await live(o, 'open');
    t.ok(await refused(startSrtPublisher({ port, streamId: 'open-key-123456', audio: false })), 'a second publisher on a live channel refused');
    const reasons = refusals().slice(before).map((l) => String(l.reason));
    t.match(reasons, [/unknown stream key/, /only takes publishers/, /already has a publisher/], `reasons: ${reasons.join(' | ')}`);
    t.notOk(lines.some((l) => JSON.stringify(l).includes('no-such-key')), 'a key never appears in a log line');
  });

  await t.test('5 % of the datagrams lost both ways (a UDP relay): SRT retransmits, the channel plays without a gap', async (t) => {
    const relay = await startLossRelay({ targetPort: port, lossRate: 0.05, random: seededRandom(t, 'loss') });
    t.teardown(() => relay.close());
    const p = startSrtPublisher({ port: relay.port, streamId: 'lossy-key-123456', latencyMs: 400, audio: true, fps: 30, gop: 30 });
    t.teardown(() => stopPublisher(p));
    const m = await live(o, 'lossy', 3);
    await new Promise((r) => setTimeout(r, 4000));
    const after = parseM3u8(await (await fetch(`${o.http}/live/lossy/source.m3u8`)).text()).manifest;
    const extinf = after.segments.slice(1).map((s: { duration: number }) => s.duration);
    t.ok(extinf.every((d: number) => d > 1.5 && d < 2.6), `every segment whole (${extinf.map((d: number) => d.toFixed(2)).join(', ')} s)`);
    t.ok(after.mediaSequence + after.segments.length >= m.mediaSequence + m.segments.length + 1, 'the playlist went on');
    t.equal(await decodeErrors(o, 'lossy', 4), '', 'the HLS decodes without an error: what was lost came again');
    const ch = (await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/lossy`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as any).status.ingest.transport;
    t.comment(`relay: ${relay.counts.dropped} of ${relay.counts.dropped + relay.counts.forwarded} datagrams dropped; SRT: ${JSON.stringify(ch)}`);
    t.ok(ch.packetsLost > 0 && ch.packetsRetransmitted > 0, `loss seen (${ch.packetsLost}) and recovered by retransmits (${ch.packetsRetransmitted})`);
    t.equal(ch.latencyMs, 400, 'the latency the caller asked for (the larger of both sides) is in force');
  });
});
