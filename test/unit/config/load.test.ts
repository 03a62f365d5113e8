import t from 'tap';
import { loadConfig, ConfigError } from '../../../src/config/load.js';

const files: Record<string, string> = {
  'good.json': JSON.stringify({ rtmp: { port: 1935 }, http: { port: 8080 }, http2: { port: 8443 }, dataDir: './data',
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low' }] }),
  'no-channels.json': JSON.stringify({ http: { port: 8080 } }),
  'bad.json': '{ "http": { "port": "eighty" }, ',
  'mistakes.json': JSON.stringify({ http: { port: 70000, prot: 1 }, latencyModes: { 'ultra-low': { partTargetSec: 1.5 } },
    channels: [{ id: 'Demo!', streamKey: 'short' }, { id: 'b', streamKey: 'same-key-1' }, { id: 'b', streamKey: 'same-key-1' }] }),
};
const readFile = (p: string) => { if (!(p in files)) throw new Error(`ENOENT: no such file '${p}'`); return files[p]; };
const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, readFile });
const problems = (fn: () => unknown): string[] => {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e.problems; throw e; }
  return [];
};

t.test('defaults: no channel, the demo left to the origin (auto), documented ports, ultra-low with 200 ms parts', async (t) => {
  const c = load([]);
  t.same(c.channels, []);
  t.equal(c.demo, 'auto', 'no config file: the origin runs the demo channel if the database has no channel either');
  t.equal(c.rtmp.port, 1935); t.equal(c.http.port, 8080); t.equal(c.http2.port, 8443); t.equal(c.api.port, 8081);
  t.equal(c.http.server, 'uws');
  t.equal(c.latencyModes['ultra-low'].partTargetSec, 0.2);
  t.equal(c.latencyModes.normal.segmentTargetSec, 6);
  t.equal(c.latencyModes.normal.partTargetSec, null);
});

t.test('file ▶ env ▶ CLI, later wins', async (t) => {
  const c = load(['--config', 'good.json', '--http.port=9090', '--http.server', 'node'],
    { SIGMA__HTTP__PORT: '9000', SIGMA__RTMP__IDLE_TIMEOUT_SEC: '20', SIGMA__HTTP2__CLEARTEXT_PORT: 'null' });
  t.equal(c.http.port, 9090, 'CLI over env');
  t.equal(c.http.server, 'node');
  t.equal(c.rtmp.idleTimeoutSec, 20, 'env over default, snake case to camel case');
  t.equal(c.http2.cleartextPort, null);
  t.equal(c.channels[0].streamKey, 'demo-key-123');
  t.equal(load([], { SIGMA_CONFIG: 'good.json' }).channels.length, 1, 'SIGMA_CONFIG names the file');
});

t.test('LOG_LEVEL sets log.level; SIGMA__LOG__LEVEL and --log.level win over it; a wrong level is named', async (t) => {
  t.equal(load([]).log.level, 'info');
  t.equal(load([], { LOG_LEVEL: 'debug' }).log.level, 'debug');
  t.equal(load([], { LOG_LEVEL: 'debug', SIGMA__LOG__LEVEL: 'warn' }).log.level, 'warn');
  t.equal(load(['--log.level=error'], { LOG_LEVEL: 'debug' }).log.level, 'error');
  t.match(problems(() => load([], { LOG_LEVEL: 'loud' })).join('\n'), /log\.level: .*'fatal' \| 'error'/);
});

t.test('one clear message per mistake, each naming its key', async (t) => {
  const p = problems(() => load(['--config', 'mistakes.json']));
  const text = p.join('\n');
  t.match(text, /http\.port: .*65535/);
  t.match(text, /http: unknown key\(s\) "prot"/);
  t.match(text, /latencyModes\.ultra-low: partTargetSec must be at most half of segmentTargetSec/);
  t.match(text, /channels\.0\.id: channel id/);
  t.match(text, /channels\.0\.streamKey: streamKey must be at least 8/);
  t.match(text, /channels\.2\.id: duplicate channel id "b"/);
  t.match(text, /channels\.2\.streamKey: duplicate streamKey/);
  t.ok(p.length >= 7, `${p.length} problems reported together`);
});

t.test('backup inputs: keys unique across inputs and channels, failover settings checked, a slate image that cannot be read named', async (t) => {
  files['backup-keys.json'] = JSON.stringify({ channels: [
    { id: 'a', streamKey: 'key-a-primary', backupStreamKeys: ['key-a-backup1', 'key-a-primary'] },
    { id: 'b', streamKey: 'key-b-primary', backupStreamKeys: ['key-a-backup1'], failover: { slate: 'image' } },
  ] });
  const keys = problems(() => load(['--config', 'backup-keys.json'])).join('\n');
  t.match(keys, /channels\.0\.backupStreamKeys\.1: duplicate stream key/, 'a backup key equal to a primary key');
  t.match(keys, /channels\.1\.backupStreamKeys\.0: duplicate stream key/, 'a key of another channel');
  t.match(keys, /channels\.1\.failover\.slateImage: slateImage is required with slate 'image'/);
  files['failover.json'] = JSON.stringify({ channels: [
    { id: 'c', streamKey: 'key-c-primary', failover: { slate: 'card', slateImage: '/x.png', failback: 'never', stallMs: 10 } },
    { id: 'd', streamKey: 'key-d-primary', backupStreamKeys: ['1', '2', '3', '4', '5'].map((n) => `key-d-backup${n}`) },
  ] });
  const settings = problems(() => load(['--config', 'failover.json'])).join('\n');
  t.match(settings, /channels\.0\.failover\.failback: Invalid enum value/);
  t.match(settings, /channels\.0\.failover\.stallMs: Number must be greater than or equal to 50/);
  t.match(settings, /channels\.1\.backupStreamKeys: Array must contain at most 4/);

  files['image.json'] = JSON.stringify({ channels: [{ id: 'a', streamKey: 'key-a-primary', backupStreamKeys: ['key-a-backup1'],
    failover: { slate: 'image', slateImage: '/nowhere/slate.png' } }] });
  const unreadable = (p: string) => { throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' }); };
  t.match(problems(() => loadConfig({ argv: ['--config', 'image.json'], env: {}, readFile, checkReadable: unreadable })),
    ['channels.0.failover.slateImage: cannot read /nowhere/slate.png (ENOENT)']);
  const c = loadConfig({ argv: ['--config', 'image.json'], env: {}, readFile, checkReadable: () => {} });
  t.match(c.channels[0], { backupStreamKeys: ['key-a-backup1'], failover: { slate: 'image', slateImage: '/nowhere/slate.png', failback: 'auto', failbackAfterSec: 10 } });
});

t.test('unreadable or malformed file, bad flags, clashing ports', async (t) => {
  t.match(problems(() => load(['--config', 'missing.json'])).join(), /missing\.json: ENOENT/);
  t.match(problems(() => load(['--config', 'bad.json'])).join(), /bad\.json: .*JSON/);
  t.match(problems(() => load(['--http.port'])).join(), /--http\.port needs a value/);
  t.match(problems(() => load(['stray'])).join(), /unexpected argument "stray"/);
  t.match(problems(() => load(['--http.port=1935'])).join(), /ports must differ/);
  t.match(problems(() => load(['--http2.certFile=/x.pem'])).join(), /both certFile and keyFile/);
  t.match(problems(() => load(['--rtmps.enabled=true', '--rtmps.keyFile=/k.pem'])).join(), /rtmps: give both certFile and keyFile/);
  t.match(problems(() => load(['--rtmps.enabled=true', '--rtmps.port=1935'])).join(), /ports must differ/);
  t.equal(load(['--rtmps.enabled=true']).rtmps.port, 1936, 'RTMPS on 1936 by default');
  t.equal(load([]).rtmps.enabled, false, 'RTMPS off unless asked');
});

t.test('storage keys: defaults, per-channel overrides, a DVR window longer than the retention refused', async (t) => {
  const c = load([]);
  t.equal(c.dvr.windowSec, 7200);
  t.equal(c.archive.retentionHours, 168);
  t.equal(c.storage.minFreeMb, 512);
  const ch = JSON.stringify({ id: 'a', streamKey: 'a-key-1234', dvrWindowSec: 7200, retentionHours: 1 });
  const p = problems(() => load([`--channels=[${ch}]`]));
  t.match(p.join('\n'), /channels\.0\.dvrWindowSec: the DVR window \(7200 s\) is longer than the archive retention \(3600 s\)/);
  t.same(problems(() => load([`--channels=[${ch}]`, '--archive.enabled=false'])), [], 'fine without the archive');
});

t.test('control-plane settings are checked: short secrets, an API port clashing with another, a bad allow-list entry', async (t) => {
  t.throws(() => load(['--secret=short']), /secret: secret must be at least 32 characters/);
  t.throws(() => load(['--api.adminToken=tooshort']), /api\.adminToken must be at least 32 characters/);
  t.throws(() => load(['--api.port=8080']), /ports must differ/);
  t.throws(() => load(['--playback.tokenSecret=x']), /playback\.tokenSecret must be at least 32 characters/);
  t.throws(() => load(['--webhooks.retryForHours=2']), /webhooks\.retryForHours/);
});
t.test('a malformed allow-list entry in the config is named', async (t) => {
  files['allow.json'] = JSON.stringify({ channels: [{ id: 'a', streamKey: 'abcdefgh1', ipAllowList: ['10.0.0.0/8', '10.0.0.0/99', 'nope'] }] });
  t.same(problems(() => load(['--config', 'allow.json'])),
    ['channels.0.ipAllowList.1: not an IP address or CIDR block', 'channels.0.ipAllowList.2: not an IP address or CIDR block']);
});

t.test('analytics: defaults, and each bad value named with its key', async (t) => {
  const c = load([]);
  t.same(c.analytics, { enabled: true, viewAfterSec: 10, sessionTimeoutSec: {}, retentionDays: 90, flushIntervalSec: 10 });
  t.equal(load(['--analytics.enabled=false']).analytics.enabled, false);
  t.equal(load([], { SIGMA__ANALYTICS__ORIGIN_ID: 'edge-1:8080' }).analytics.originId, 'edge-1:8080');
  t.same(load(['--analytics.sessionTimeoutSec.normal=45']).analytics.sessionTimeoutSec, { normal: 45 });
  files['analytics.json'] = JSON.stringify({ analytics: { viewAfterSec: -1, sessionTimeoutSec: { low: 1, slow: 5 }, retentionDays: 0.5,
    flushIntervalSec: 0, originId: 'has space' } });
  const p = problems(() => load(['--config', 'analytics.json'])).join('\n');
  t.match(p, /analytics\.viewAfterSec: analytics\.viewAfterSec must be ≥ 0/);
  t.match(p, /analytics\.sessionTimeoutSec\.low: a session timeout must be at least 2 s/);
  t.match(p, /analytics\.sessionTimeoutSec: unknown key\(s\) "slow"/);
  t.match(p, /analytics\.retentionDays: analytics\.retentionDays must be a whole number of days/);
  t.match(p, /analytics\.flushIntervalSec: analytics\.flushIntervalSec must be at least 1/);
  t.match(p, /analytics\.originId: analytics\.originId: 1–128 letters/);
});

t.test('the demo channel: only when asked, or auto without a config file; never beside configured channels; its key taken by none', async (t) => {
  t.equal(load(['--config', 'no-channels.json']).demo, false, 'a config file listing no channel: no demo');
  t.same(load(['--config', 'no-channels.json']).channels, []);
  t.equal(load(['--config', 'no-channels.json', '--demo']).demo, true, '--demo asks for it');
  t.equal(load(['--demo', '--http.port=9000']).http.port, 9000, '--demo takes no value');
  t.equal(load(['--demo=false']).demo, false, '--demo=false refuses it on a first start');
  t.equal(load([], { SIGMA__DEMO: 'true', SIGMA_CONFIG: 'no-channels.json' }).demo, true, 'from the environment');
  t.equal(load(['--config', 'good.json']).demo, false);
  t.equal(load([`--channels=[{"id":"a","streamKey":"a-key-1234"}]`]).demo, 'auto', 'auto, but a channel exists: the origin runs no demo');
  t.match(problems(() => load(['--config', 'good.json', '--demo'])), ['demo: the demo channel runs only alone (its key is public): remove demo or channels']);
  t.match(problems(() => load([`--channels=[{"id":"a","streamKey":"demo-key","backupStreamKeys":["demo-key"]}]`])),
    ['channels.0.streamKey: "demo-key" is the demo channel\'s public key: choose another', 'channels.0.backupStreamKeys.0: "demo-key" is the demo channel\'s public key: choose another']);
});
