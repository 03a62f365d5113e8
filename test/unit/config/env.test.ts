import t from 'tap';
import { loadConfig, ConfigError } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import { envNameOf, leafPaths, resolveEnvPath, type KeyPath } from '../../../src/config/env.js';

const load = (env: Record<string, string>, argv: string[] = [], files: Record<string, string> = {}) =>
  loadConfig({ argv, env, readFile: (p) => files[p] });
const problems = (fn: () => unknown): string[] => {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e.problems; throw e; }
  return [];
};
const at = (obj: unknown, path: KeyPath): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], obj);

/** Every leaf of the defaults, found by walking them: a key added to the schema is covered without touching this test. */
function defaultLeaves(value: unknown, path: KeyPath = []): [KeyPath, unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => defaultLeaves(v, [...path, k]));
  }
  return [[path, value]];
}

t.test('every key path of the schema (list items and rule records included) resolves back from its env name', async (t) => {
  const paths = leafPaths(configSchema);
  t.ok(paths.length > 150, `${paths.length} key paths`);
  for (const path of paths) {
    const name = envNameOf(path);
    t.match(name, /^SIGMA__[A-Z0-9_]+$/, `${path.join('.')}: a name a shell can set`);
    t.match(resolveEnvPath(configSchema, name.slice('SIGMA__'.length).split('__'), {}), { path },
      `${name} ▶ ${path.join('.')}`);
  }
  t.ok(paths.some((p) => p.join('.') === 'latencyModes.ultra-low.partTargetSec'), 'hyphenated keys');
  t.ok(paths.some((p) => p.join('.') === 'alerts.rules.publisherStalled.afterSec'), 'rule keys');
  t.ok(paths.some((p) => p.join('.') === 'channels.0.failover.stallMs'), 'channel keys');
});

t.test('every leaf of the defaults round-trips through its env name', async (t) => {
  const defaults = configSchema.parse({});
  const leaves = defaultLeaves(defaults);
  t.ok(leaves.length > 80, `${leaves.length} leaves`);
  for (const [path, value] of leaves) {
    const name = envNameOf(path);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    t.same(at(load({ [name]: text }), path), value, `${name}=${text}`);
    // And the variable reaches the key: a value of the wrong kind is named with that key.
    if (typeof value !== 'string' && path[path.length - 1] !== 'ladders') {
      t.match(problems(() => load({ [name]: '{"not":"this"}' })).join('\n'), path.join('.'), `${name} is checked as ${path.join('.')}`);
    }
  }
});

t.test('keys with hyphens, digits, camelCase, rule records and list items are set from the environment', async (t) => {
  const file = { 'c.json': JSON.stringify({ channels: [{ id: 'show', streamKey: 'file-key-1234' }], transcode: { ladders: { 'my-ladder': ['720p'] } } }) };
  const c = load({
    SIGMA__LATENCY_MODES__ULTRA_LOW__PART_TARGET_SEC: '0.3',
    SIGMA__HTTP2__CLEARTEXT_PORT: '9444',
    SIGMA__ANALYTICS__SESSION_TIMEOUT_SEC__ULTRA_LOW: '12',
    SIGMA__ALERTS__RULES__EVENT_LOOP_LAG__P99_MS: '250',
    SIGMA__CHANNELS__0__STREAM_KEY: '1234567890',
    SIGMA__CHANNELS__0__FAILOVER__STALL_MS: '500',
    SIGMA__TRANSCODE__LADDERS__MY_LADDER: '["480p"]',
    SIGMA__SECRET: '1'.repeat(40),
  }, ['--config', 'c.json'], file);
  t.equal(c.latencyModes['ultra-low'].partTargetSec, 0.3);
  t.equal(c.http2.cleartextPort, 9444);
  t.equal(c.analytics.sessionTimeoutSec['ultra-low'], 12);
  t.equal(c.alerts.rules.eventLoopLag?.p99Ms, 250);
  t.match(c.channels, [{ id: 'show', streamKey: '1234567890', failover: { stallMs: 500 } }], 'a list item of the file, a key of digits kept as text');
  t.same(c.transcode.ladders, { 'my-ladder': ['480p'] }, 'a record key matched to the one the file has');
  t.equal(c.secret, '1'.repeat(40), 'text keys take digits as text');
  t.match(load({ SIGMA__CHANNELS__0__ID: 'a', SIGMA__CHANNELS__0__STREAM_KEY: 'env-key-1234' }).channels, [{ id: 'a', streamKey: 'env-key-1234' }], 'a channel from the environment alone');
});

t.test('an env var naming no key stops the start, named with what exists there', async (t) => {
  const p = problems(() => load({ SIGMA__HTTP__PROT: '1', SIGMA__NOPE: 'x', SIGMA__CHANNELS__FIRST__ID: 'a', SIGMA__HTTP__PORT__X: '1' }));
  t.match(p.join('\n'), /SIGMA__HTTP__PROT \(environment\): names no config key: http has ENABLED, HOST, PORT, SERVER/);
  t.match(p.join('\n'), /SIGMA__NOPE \(environment\): names no config key: the top level has RTMP, /);
  t.match(p.join('\n'), /SIGMA__CHANNELS__FIRST__ID \(environment\): .*list, its items are numbered/);
  t.match(p.join('\n'), /SIGMA__HTTP__PORT__X \(environment\): names no config key: http\.port has no keys under it/);
  t.same(problems(() => load({ SIGMA_CONFIG_X: 'ignored', OTHER: '1' })), [], 'other variables are not ours');
});
