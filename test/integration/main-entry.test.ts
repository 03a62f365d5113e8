import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const MAIN = resolve('dist/src/main.js');

/** What `npm start -- --config FILE` runs after the bootstrap: the process entry point. */
t.test('main: --config FILE starts the origin, prints the URLs a person needs, and stops cleanly on SIGINT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({
    srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, http2: { enabled: false }, api: { host: '127.0.0.1', port: 0 },
    dataDir: join(dir, 'data'), log: { level: 'warn' },
    channels: [{ id: 'show', streamKey: 'show-key-123', latencyMode: 'low' }],
  }));
  const p = spawn(process.execPath, [MAIN, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  p.stderr!.setEncoding('utf8');
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => { out += d; });
  const printed = new Promise<string>((res, rej) => {
    p.stderr!.on('data', (d: string) => { err += d; if (/player: +\S+\n[\s\S]*REST API: \S+[\s\S]*console: +\S+/.test(err)) res(err); });
    p.on('exit', (code) => rej(new Error(`main exited ${code}: ${err}`)));
  });
  const text = await printed;
  t.match(text, /channel "show" \(low\)/);
  t.match(text, /publish: .*rtmp:\/\/127\.0\.0\.1:\d+\/live\/show-key-123/);
  t.match(text, /OBS: +server rtmp:\/\/127\.0\.0\.1:\d+\/live +stream key show-key-123/);
  const playback = /playback: (\S+)/.exec(text)![1];
  const player = /player: +(\S+)/.exec(text)![1];
  t.match(playback, /\/live\/show\/index\.m3u8$/);
  const base = new URL(playback).origin;
  t.equal((await fetch(`${base}/healthz`)).status, 200, '/healthz on the printed address');
  const page = await fetch(player);
  t.equal(page.status, 200);
  t.match(await page.text(), /hls\.min\.js/, 'the player page loads hls.js from the origin');
  t.equal((await fetch(playback)).status, 404, 'nobody publishes yet: 404');

  // The first start prints an admin API token once, on the console and never in the log.
  const token = /^\s+(sgl_[A-Za-z0-9_-]{43})$/m.exec(text)?.[1];
  t.ok(token, 'the first admin token is printed');
  const api = /REST API: (\S+)/.exec(text)![1];
  const channels = await fetch(`${api}/channels`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(channels.status, 200);
  t.match(await channels.json(), { items: [{ id: 'show', source: 'config' }] });
  t.equal((await fetch(`${api}/channels`)).status, 401);
  const consolePage = await fetch(/console: +(\S+)/.exec(text)![1]);
  t.equal(consolePage.status, 200, 'the printed console URL serves the console');
  t.match(await consolePage.text(), /<script type="importmap">/);
  t.notOk(out.includes(token!), 'the token is not in the JSON log');
  p.kill('SIGINT');
  const [code] = await once(p, 'exit');
  t.equal(code, 0, 'graceful shutdown');
});

t.test('main: an invalid config exits 2 with one line per mistake', async (t) => {
  const p = spawn(process.execPath, [MAIN, '--http.port=99999', '--rtmp.idleTimeoutSec=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr!.setEncoding('utf8');
  p.stderr!.on('data', (d: string) => { err += d; });
  const [code] = await once(p, 'exit');
  t.equal(code, 2);
  t.match(err, /invalid configuration:\n {2}- /);
  t.match(err, /http\.port: /);
  t.match(err, /rtmp\.idleTimeoutSec: /);
});
