/** The Sigma-Signature scheme, from the receiver's side: what is accepted and what is refused. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signWebhook, verifyWebhookSignature } from '../../../src/control/webhooks/signing.js';
import { webhookPayload, webhookRequest } from '../../../src/control/webhooks/payload.js';
import { missingCommand, testNeeding } from '../../helpers/ci.js';

const secret = 'whsec_4f9c2a61b7d8e0';
const body = '{"id":"evt_1","type":"channel.live","channelId":"news","occurredAt":"2026-11-25T12:00:00.000Z","data":{"channel":"news"}}';
const now = 1_795_000_000;
/** docs/webhooks.md, whose snippets are run here (from dist/test/unit/control). */
const docs = () => readFileSync(new URL('../../../../docs/webhooks.md', import.meta.url), 'utf8');

t.test('the header is t=<seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>', async (t) => {
  const header = signWebhook(secret, body, now + 0.9);
  const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
  t.equal(header, `t=${now},v1=${expected}`, 'computed independently with node:crypto');
  t.same(verifyWebhookSignature(secret, header, body, { nowSec: now }), { ok: true, timestamp: now });
  t.same(verifyWebhookSignature(secret, header, Buffer.from(body), { nowSec: now }), { ok: true, timestamp: now }, 'a Buffer body verifies alike');
});

t.test('refused: tampered body, wrong secret, missing or altered signature', async (t) => {
  const header = signWebhook(secret, body, now);
  t.same(verifyWebhookSignature(secret, header, body.replace('news', 'newz'), { nowSec: now }), { ok: false, reason: 'mismatch' }, 'tampered body');
  t.same(verifyWebhookSignature(secret, header, `${body} `, { nowSec: now }), { ok: false, reason: 'mismatch' }, 'one byte added');
  t.same(verifyWebhookSignature('whsec_other', header, body, { nowSec: now }), { ok: false, reason: 'mismatch' }, 'wrong secret');
  const forgedTime = header.replace(`t=${now}`, `t=${now + 1}`);
  t.same(verifyWebhookSignature(secret, forgedTime, body, { nowSec: now }), { ok: false, reason: 'mismatch' }, 'the timestamp is signed too');
  const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
  t.same(verifyWebhookSignature(secret, flipped, body, { nowSec: now }), { ok: false, reason: 'mismatch' }, 'one hex digit changed');
  for (const bad of [undefined, '', `t=${now}`, header.replace(/^t=\d+,/, ''), `t=${now},v1=abc`, `t=${now},v0=${header.split('v1=')[1]}`,
    `t=x${now},v1=${header.split('v1=')[1]}`, `t=${now},t=${now},v1=${header.split('v1=')[1]}`]) {
    t.same(verifyWebhookSignature(secret, bad, body, { nowSec: now }), { ok: false, reason: 'malformed' }, `malformed: ${JSON.stringify(bad)}`);
  }
});

t.test('refused: a timestamp older (or newer) than the tolerance, 300 s by default', async (t) => {
  const header = signWebhook(secret, body, now);
  t.ok(verifyWebhookSignature(secret, header, body, { nowSec: now + 300 }).ok, '300 s late is still accepted');
  t.same(verifyWebhookSignature(secret, header, body, { nowSec: now + 301 }), { ok: false, reason: 'expired' }, 'a replay 301 s later');
  t.same(verifyWebhookSignature(secret, header, body, { nowSec: now - 301 }), { ok: false, reason: 'expired' }, 'from the future');
  t.ok(verifyWebhookSignature(secret, header, body, { nowSec: now + 3000, toleranceSec: 3600 }).ok, 'the tolerance is an option');
  t.same(verifyWebhookSignature(secret, signWebhook(secret, body, 1000), body), { ok: false, reason: 'expired' },
    'by default now is the current time');
  t.ok(verifyWebhookSignature(secret, signWebhook(secret, body, Date.now() / 1000), body).ok);
});

t.test('secret rotation: several v1 values, any one matching is enough', async (t) => {
  const header = signWebhook(['whsec_old', 'whsec_new'], body, now);
  t.equal(header.split(',').length, 3);
  t.ok(verifyWebhookSignature('whsec_old', header, body, { nowSec: now }).ok, 'a receiver still on the old secret');
  t.ok(verifyWebhookSignature('whsec_new', header, body, { nowSec: now }).ok, 'a receiver already on the new one');
  t.same(verifyWebhookSignature('whsec_third', header, body, { nowSec: now }), { ok: false, reason: 'mismatch' });
  t.ok(verifyWebhookSignature('whsec_new', ` t=${now} , v1=${'0'.repeat(64)} , v1=${header.split('v1=')[2]}`, body, { nowSec: now }).ok,
    'spaces and an unknown value around the matching one');
  t.throws(() => signWebhook([], body, now));
});

t.test('the request: JSON body of the event, headers, signature over exactly the body sent', async (t) => {
  const event = { id: 'evt_abc', type: 'recording.ready', channelId: 'news', occurredAt: Date.UTC(2026, 10, 25, 12, 0, 0, 123),
    payload: { channel: 'news', file: 'a.mp4', bytes: 10 } };
  const req = webhookRequest(event, secret, 3, now);
  t.same(JSON.parse(req.body), { id: 'evt_abc', type: 'recording.ready', channelId: 'news', occurredAt: '2026-11-25T12:00:00.123Z',
    data: { channel: 'news', file: 'a.mp4', bytes: 10 } });
  t.same(webhookPayload({ ...event, channelId: null }).channelId, null);
  t.match(req.headers, { 'content-type': 'application/json', 'user-agent': 'SigmaLive-Webhooks/1', 'Sigma-Event-Id': 'evt_abc',
    'Sigma-Event-Type': 'recording.ready', 'Sigma-Delivery-Attempt': '3' });
  t.ok(verifyWebhookSignature(secret, req.headers['Sigma-Signature'], req.body, { nowSec: now }).ok);
});

t.test('the Node snippet of docs/webhooks.md verifies what the sender signs, and refuses the same cases', async (t) => {
  const code = /<!-- verify-snippet[^>]*-->\s*```js\n([\s\S]*?)```/.exec(docs())?.[1];
  if (!code) throw new Error('docs/webhooks.md: no verify-snippet block');
  const { verifySigmaSignature } = await import(`data:text/javascript,${encodeURIComponent(code)}`) as {
    verifySigmaSignature: (secret: string, header: string | undefined, raw: string | Buffer, toleranceSec?: number, nowSec?: number) => boolean;
  };
  const header = signWebhook(secret, body, now);
  t.equal(verifySigmaSignature(secret, header, Buffer.from(body), 300, now), true);
  t.equal(verifySigmaSignature(secret, header, body.replace('news', 'newz'), 300, now), false, 'tampered body');
  t.equal(verifySigmaSignature('whsec_other', header, body, 300, now), false, 'wrong secret');
  t.equal(verifySigmaSignature(secret, header, body, 300, now + 301), false, 'old timestamp');
  t.equal(verifySigmaSignature(secret, undefined, body, 300, now), false, 'no header');
  t.equal(verifySigmaSignature(secret, `t=${now},v1=zz`, body, 300, now), false, 'malformed');
  t.equal(verifySigmaSignature('whsec_new', signWebhook(['whsec_old', 'whsec_new'], body, now), body, 300, now), true, 'rotation');
  t.equal(verifySigmaSignature(secret, signWebhook(secret, body, Date.now() / 1000), body), true, 'default: the current time');
});

testNeeding(t, 'the shell line of docs/webhooks.md computes the same v1 with openssl', missingCommand('openssl', ['version']), async (t) => {
  const line = /```sh\n(printf [^\n]*openssl[^\n]*)\n```/.exec(docs())?.[1];
  if (!line) throw new Error('docs/webhooks.md: no openssl line');
  const dir = mkdtempSync(join(tmpdir(), 'sigma-sig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const raw = `${body}\n  ünïcødé  `;
  writeFileSync(join(dir, 'body.json'), raw);
  const out = spawnSync('sh', ['-c', line], { cwd: dir, env: { ...process.env, t: String(now), SECRET: secret }, encoding: 'utf8' });
  t.equal(`t=${now},v1=${out.stdout.trim()}`, signWebhook(secret, raw, now));
});
