import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

t.test('main: --help prints the usage and --version the package version, both exit 0', async (t) => {
  const run = async (arg: string) => {
    const p = spawn(process.execPath, [MAIN, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => { out += d; });
    const [code] = await once(p, 'exit');
    return { code, out };
  };
  const help = await run('--help');
  t.equal(help.code, 0);
  for (const text of ['--config FILE', '--demo', '--help', '--version', 'SIGMA_CONFIG', 'SIGMA__', 'LOG_LEVEL', 'README.md, section Configuration']) t.match(help.out, text);
  const version = await run('--version');
  t.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version: string };
  t.equal(version.out, `${pkg.version}\n`);
});

t.test('main: a first start (no config file, empty data dir) runs the demo channel with one warn line; LOG_LEVEL sets the level', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-main-demo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, LOG_LEVEL: 'warn', SIGMA__DATA_DIR: join(dir, 'data'), SIGMA__SRT__ENABLED: 'false', SIGMA__HTTP2__ENABLED: 'false',
    SIGMA__RTMP__HOST: '127.0.0.1', SIGMA__RTMP__PORT: '0', SIGMA__HTTP__HOST: '127.0.0.1', SIGMA__HTTP__PORT: '0', SIGMA__API__HOST: '127.0.0.1', SIGMA__API__PORT: '0' };
  const p = spawn(process.execPath, [MAIN], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: dir });
  let err = '', out = '';
  p.stderr!.setEncoding('utf8');
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => { out += d; });
  await new Promise<void>((res, rej) => {
    p.stderr!.on('data', (d: string) => { err += d; if (/console: +\S+/.test(err)) res(); });
    p.on('exit', (code) => rej(new Error(`main exited ${code}: ${err}`)));
  });
  t.match(err, /channel "demo" \(ultra-low\)\n  publish: .*\/live\/demo-key/);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
  t.equal(lines.filter((l) => /demo channel is running with the public stream key/.test(l.msg) && l.level === 40).length, 1, 'one warn line');
  t.notOk(lines.some((l) => l.level < 40), 'LOG_LEVEL=warn: no info lines');
  p.kill('SIGINT');
  t.equal((await once(p, 'exit'))[0], 0);
});
