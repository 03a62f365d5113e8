import t from 'tap';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { captureLogs } from '../helpers/log-capture.js';
import { parseM3u8 } from '../helpers/m3u8.js';

const run = promisify(execFile);

/**
 * RTMPS ingest (issue 20): ffmpeg publishes over RTMP inside TLS to the rtmps listener (the
 * development certificate), the channel plays; a plain RTMP client on the TLS port and a wrong
 * key over TLS are refused with a log line, while the cleartext RTMP listener goes on serving.
 */
t.test('ffmpeg publishes over RTMPS; the channel plays; refusals are logged and harm nothing', async (t) => {
  const { logger, lines } = captureLogs('info');
  const o = await startOrigin({
    rtmps: { enabled: true, port: 0, host: '127.0.0.1' },
    channels: [
      { id: 'secure', streamKey: 'secure-key-123', latencyMode: 'ultra-low' },
      { id: 'plain', streamKey: 'plain-key-123', latencyMode: 'low' },
    ],
  }, { logger });
  t.teardown(() => o.close());
  t.ok(o.ports.rtmps, `rtmps listening on ${o.ports.rtmps}`);
  const rtmps = (key: string) => `rtmps://127.0.0.1:${o.ports.rtmps}/live/${key}`;

  const secure = startPublisher(rtmps('secure-key-123'), { fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(secure));
  const plain = startPublisher(o.rtmp('plain-key-123'), { fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(plain));

  const mediaOf = async (id: string) => waitUntil(async () => {
    const r = await fetch(`${o.http}/live/${id}/source.m3u8`);
    if (r.status !== 200) return undefined;
    const m = parseM3u8(await r.text()).manifest;
    return m.segments.length >= 2 ? m : undefined;
  }, 25_000, `two complete segments of ${id}`);
  const [m] = await Promise.all([mediaOf('secure'), mediaOf('plain')]);
  t.pass('both channels live: over RTMPS and over RTMP');

  // Decoded by ffmpeg from the origin's HLS: the media came through TLS intact.
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', `${o.http}/live/secure/source.m3u8`, '-t', '2', '-f', 'null', '-'], { timeout: 30_000 });
  t.equal(stderr.trim(), '', 'ffmpeg decodes 2 s of the RTMPS channel\'s HLS without an error');
  t.ok(m.segments.every((s: { duration: number }) => s.duration > 0.5), 'segments of the expected length');

  await t.test('a plain RTMP client on the RTMPS port: the TLS handshake fails, logged, the connection closed', async (t) => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = connectTcp(o.ports.rtmps!, '127.0.0.1', () => s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7)])));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
      setTimeout(() => { s.destroy(); resolve(false); }, 8000);
    });
    t.ok(closed, 'closed by the origin');
    await waitUntil(() => lines.some((l) => l.msg === 'TLS handshake failed' && l.component === 'rtmps'), 3000, 'the log line');
  });

  await t.test('a wrong stream key over RTMPS is refused with the reason, like over RTMP', async (t) => {
    const wrong = startPublisher(rtmps('nope-key'), { fps: 30, gop: 30 });
    const code = await new Promise<number | null>((resolve) => wrong.once('exit', resolve));
    t.not(code, 0, 'ffmpeg gave up');
    t.ok(lines.some((l) => l.msg === 'publish refused' && l.reason === 'unknown stream key' && l.component === 'rtmps'), 'refusal logged by the rtmps listener');
  });

  await t.test('a TLS client that never speaks RTMP is cut off by the idle timeout', async (t) => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const s = connectTls({ port: o.ports.rtmps!, host: '127.0.0.1', rejectUnauthorized: false });
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    const ms = Date.now() - started;
    t.ok(ms >= 4000 && ms < 9000, `closed after ${ms} ms (idleTimeoutSec 5)`);
  });

  const still = await (await fetch(`${o.http}/live/plain/source.m3u8`)).text();
  t.ok(parseM3u8(still).manifest.segments.length >= 2, 'the RTMP channel plays on');
});
