/**
 * WebhookSender against an outbox that fails on purpose (a fake): what it logs and that it goes
 * on. Delivery against the real databases is in webhooks-suite.ts.
 */
import t from 'tap';
import { WebhookSender } from '../../../src/control/webhooks/sender.js';
import type { ClaimOptions } from '../../../src/db/repository.js';
import type { ClaimedDelivery } from '../../../src/db/types.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitUntil } from '../../helpers/wait.js';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js';

const T0 = Date.UTC(2026, 10, 25, 12);

function claimed(id: number, url: string): ClaimedDelivery {
  return {
    delivery: { id, endpointId: 'wh_1', eventId: `evt_${id}`, state: 'pending', attempts: 1, nextAttemptAt: T0, leaseOwner: 'x', leaseUntil: T0 + 1,
      lastStatus: null, lastError: null, createdAt: T0, updatedAt: T0, deliveredAt: null },
    event: { id: `evt_${id}`, type: 'channel.live', channelId: 'news', occurredAt: T0, payload: { channel: 'news' } },
    endpoint: { id: 'wh_1', url, secret: 's' },
  };
}

function sender(outbox: ConstructorParameters<typeof WebhookSender>[0]['outbox']) {
  const { logger, lines } = captureLogs();
  const s = new WebhookSender({ outbox, logger, timeoutSec: 2, retryForHours: 25, concurrency: 2, pollIntervalMs: 10, clock: () => T0 });
  t.teardown(() => s.close());
  return { s, lines };
}

t.test('an unreachable outbox: one line when claims start failing, one when they work again; the polls go on', async (t) => {
  let calls = 0;
  const claims: ClaimOptions[] = [];
  const { s, lines } = sender({
    claim: async (opts) => {
      claims.push(opts);
      if (++calls <= 5) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return [];
    },
    complete: async () => true,
    fail: async () => true,
  });
  s.start();
  await waitUntil(() => calls >= 8, 2000, 'the polls to go on', 5);
  t.equal(lines.filter((l) => l.msg.startsWith('webhook outbox unreachable')).length, 1);
  t.match(lines.find((l) => l.msg === 'webhook outbox reachable again'), { failedClaims: 5 });
  t.match(claims[0], { owner: s.owner, leaseMs: 32_000, limit: 2 }, 'leased for the timeout + 30 s, as many as free slots');
  t.match(s.owner, /^[^:]+:\d+:[0-9a-f]{8}$/, 'host:pid:random');
});

t.test('an attempt whose result cannot be recorded: logged, the lease left to expire, the sender goes on', async (t) => {
  const r = await startWebhookReceiver({ secret: 's', nowSec: () => T0 / 1000 });
  t.teardown(() => r.close());
  let batch = [claimed(1, r.url), claimed(2, r.url)];
  const { s, lines } = sender({
    claim: async () => { const b = batch; batch = []; return b; },
    complete: async (id) => { if (id === 1) throw new Error('database is locked'); return true; },
    fail: async () => true,
  });
  s.start();
  await r.waitForRequests(2);
  await waitUntil(() => lines.some((l) => l.msg === 'webhook delivered'), 2000, 'the second delivered', 5);
  t.match(lines.find((l) => l.msg.startsWith('webhook attempt could not be recorded')), { eventId: 'evt_1', err: { message: 'database is locked' } });
  t.equal(s.busy, 0);
});

t.test('attempts are counted by outcome (sigma_webhook_deliveries_total reads them)', async (t) => {
  const r = await startWebhookReceiver({ secret: 's', nowSec: () => T0 / 1000 });
  t.teardown(() => r.close());
  // Port 9 (discard) has no listener here: the attempt fails at once and is retried later.
  let batch = [claimed(1, r.url), claimed(2, 'http://127.0.0.1:9/hook')];
  const { s } = sender({ claim: async () => { const b = batch; batch = []; return b; }, complete: async () => true, fail: async () => true });
  s.start();
  await waitUntil(() => s.outcomes.delivered + s.outcomes.retrying === 2, 3000, 'both attempts to end', 5);
  t.same(s.outcomes, { delivered: 1, retrying: 1, gave_up: 0, abandoned: 0 });
});
