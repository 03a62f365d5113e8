import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type RunningOrigin } from '../helpers/origin.js';
import { captureLogs } from '../helpers/log-capture.js';
import { PublishAuthorizer } from '../../src/control/publish-authorizer.js';

/** The demo channel's rules (issue 23): only when asked or on a first start, and its public key never beside another channel. */
const ADMIN = 'admin-token-for-the-demo-channel-test-0123456789';
const api = { port: 0, host: '127.0.0.1', adminToken: ADMIN };

function demoWarnings(lines: { level: number; msg: string }[]) {
  return lines.filter((l) => l.level === 40 && /demo channel is running with the public stream key "demo-key"/.test(l.msg));
}

async function createApiChannel(o: RunningOrigin, id: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, name: id }),
  });
  if (res.status !== 201) throw new Error(`POST /channels: ${res.status} ${await res.text()}`);
}

t.test('a first start (demo auto, empty database) runs the demo with one warning; its key is refused once an API channel exists, and the next start has no demo', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sigma-demo-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = captureLogs('info');
  const o = await startOrigin({ dataDir, api, channels: [], demo: 'auto' }, { logger: first.logger });
  t.teardown(() => o.close());
  t.ok(o.origin.channels.get('demo'), 'the demo channel is served');
  t.match(o.config.channels, [{ id: 'demo', streamKey: 'demo-key' }], 'and listed with the config channels (main prints its URLs)');
  t.equal(demoWarnings(first.lines).length, 1, 'one warn line');
  t.match(demoWarnings(first.lines)[0].msg, /--demo=false or SIGMA__DEMO=false/, 'saying how to turn it off');

  const authorizer = new PublishAuthorizer({ channels: o.origin.channels, logger: first.logger,
    streamKeys: { repo: o.origin.db!.streamKeys, hash: o.origin.keys!.streamKeys } });
  const req = { streamKey: 'demo-key', remoteAddress: '127.0.0.1' };
  t.match(await authorizer.check(req), { accept: true, input: 'primary' }, 'alone, the demo key publishes');
  await createApiChannel(o, 'show');
  const refused = await authorizer.check(req);
  const bad = await authorizer.check({ streamKey: 'no-such-key-123', remoteAddress: '127.0.0.1' });
  t.match(refused, { accept: false, code: bad.accept ? 'x' : bad.code, reason: /^unknown stream key/ }, 'refused as an unknown key once another channel exists');
  await o.close();

  const second = captureLogs('info');
  const again = await startOrigin({ dataDir, api, channels: [], demo: 'auto' }, { logger: second.logger });
  t.teardown(() => again.close());
  t.notOk(again.origin.channels.get('demo'), 'an API channel exists: no demo');
  t.ok(again.origin.channels.get('show'));
  t.same(demoWarnings(second.lines), []);
  const forced = captureLogs('info');
  await again.close();
  const asked = await startOrigin({ dataDir, api, channels: [], demo: true }, { logger: forced.logger });
  t.teardown(() => asked.close());
  t.notOk(asked.origin.channels.get('demo'), 'demo: true beside API channels: not run');
  t.ok(forced.lines.some((l) => l.level === 40 && /demo: true ignored: API channels exist/.test(l.msg)), 'and said why');
});

t.test('demo false (a config file listing no channel): no demo channel, the demo key unknown', async (t) => {
  const logs = captureLogs('info');
  const o = await startOrigin({ api, channels: [], demo: false }, { logger: logs.logger });
  t.teardown(() => o.close());
  t.same(o.origin.channels.all(), []);
  t.same(demoWarnings(logs.lines), []);
  const authorizer = new PublishAuthorizer({ channels: o.origin.channels, logger: logs.logger });
  t.match(await authorizer.check({ streamKey: 'demo-key', remoteAddress: '127.0.0.1' }), { accept: false, reason: 'unknown stream key' });
});

t.test('demo true (--demo) on an empty database: the demo channel runs', async (t) => {
  const logs = captureLogs('info');
  const o = await startOrigin({ api, channels: [], demo: true }, { logger: logs.logger });
  t.teardown(() => o.close());
  t.ok(o.origin.channels.get('demo'));
  t.equal(demoWarnings(logs.lines).length, 1);
});
