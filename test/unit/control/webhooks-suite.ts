/**
 * Webhooks end to end on a real database: EventRecorder stores what the bus emits with its
 * outbox rows, WebhookSender POSTs them to a real node:http receiver on 127.0.0.1 that checks
 * the signature like a customer would. Run as it is against SQLite (webhooks-sqlite.test.ts)
 * and a real PostgreSQL server (webhooks-postgres.test.ts). The clock is a ManualClock shared by
 * the database, the sender and the receiver: retries and horizons are driven without waiting.
 */
import type { Test } from 'tap';
import { createServer } from 'node:net';
import { EventRecorder } from '../../../src/control/event-recorder.js';
import { retrySchedule } from '../../../src/control/webhooks/backoff.js';
import { WebhookSender, type WebhookSenderOptions } from '../../../src/control/webhooks/sender.js';
import { openDatabase, recordEvent, type Database, type Delivery } from '../../../src/db/index.js';
import { EventBus } from '../../../src/events.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { waitUntil } from '../../helpers/wait.js';
import { startWebhookReceiver, type Reply, type ReceivedWebhook, type WebhookReceiver } from '../../helpers/webhook-receiver.js';
import type { ContractTarget } from '../db/repository-contract.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const SECRET = 'whsec_suite_7d1e0b94';
const HOUR = 3_600_000;
const POLL_MS = 25;
/** Long enough for several polls: what "nothing more happens" waits. */
const QUIET_MS = 250;

const quiet = () => new Promise((r) => setTimeout(r, QUIET_MS));
const live = (channel = 'news') => ({ channel, sessionId: 'sess-1', startedBy: 'auto' as const });

export function webhookSuite(t: Test, target: ContractTarget): void {
  /**
   * One origin's control plane for a subtest: database, bus, recorder, senders, receivers; all
   * closed at the subtest's end (senders before their database). `url`: reopen a database.
   */
  const setup = async (t: Test, o: { url?: string; clock?: ManualClock } = {}) => {
    const url = o.url ?? await target.freshUrl();
    const clock = o.clock ?? new ManualClock(T0);
    const { logger, lines } = captureLogs();
    const closers: (() => Promise<void>)[] = [];
    t.teardown(async () => { for (const c of closers.reverse()) await c(); });
    const open = async () => {
      const d = await openDatabase(url, { clock: clock.read });
      closers.push(() => d.close());
      return d;
    };
    const db = await open();
    const bus = new EventBus();
    // The recorder wakes every sender of this origin; wakes counts how often.
    const senders: WebhookSender[] = [];
    const wakes = { n: 0 };
    const hub = { wake: () => { wakes.n++; for (const sender of senders) sender.wake(); } };
    const recorder = new EventRecorder({ bus, db, logger, clock: clock.read, sender: hub });
    closers.push(() => recorder.close());
    const startSender = (opts: Partial<WebhookSenderOptions> = {}, on: Database = db) => {
      const sender = new WebhookSender({
        outbox: on.outbox, logger, timeoutSec: 2, retryForHours: 25, concurrency: 4, pollIntervalMs: POLL_MS, clock: clock.read, random: () => 0.5,
        ...opts,
      });
      closers.push(() => sender.close());
      senders.push(sender);
      sender.start();
      return sender;
    };
    const receiver = async (reply?: (r: ReceivedWebhook) => Reply) => {
      const r = await startWebhookReceiver({ secret: SECRET, nowSec: clock.readSec, reply });
      closers.push(() => r.close());
      return r;
    };
    const endpoint = (r: WebhookReceiver | string, eventTypes = ['*'], path = '') =>
      db.webhooks.create({ url: typeof r === 'string' ? r : r.url + path, secret: SECRET, eventTypes });
    /** The only delivery of an endpoint, once `ready` holds for it. */
    const delivery = (endpointId: string, ready: (d: Delivery) => boolean, what: string) => waitUntil(async () => {
      const [d] = (await db.outbox.listForEndpoint(endpointId)).items;
      return d && ready(d) && d;
    }, 5000, what, 10);
    const attempts = async (deliveryId: number) =>
      (await db.deliveryLog.listForDelivery(deliveryId)).map((a) => ({ attempt: a.attempt, ok: a.ok, status: a.status, at: a.at }));
    return { url, clock, db, open, bus, recorder, wakes, lines, startSender, receiver, endpoint, delivery, attempts };
  };

  t.test('recorder: events stored in emit order with their time; outbox rows only for subscribed endpoints; sender woken', async (t) => {
    const s = await setup(t);
    const byType = await s.endpoint('http://127.0.0.1:9/live', ['channel.live']);
    const two = await s.endpoint('http://127.0.0.1:9/two', ['recording.ready', 'channel.ended']);
    const star = await s.db.webhooks.create({ url: 'http://127.0.0.1:9/all', secret: SECRET, eventTypes: ['*'], enabled: false });

    s.bus.emit('channel.preview', { channel: 'news', sessionId: 's', remoteAddress: '192.0.2.1' });
    s.clock.advance(1);
    s.bus.emit('storage.low', { dataDir: '/data', freeBytes: 1, minFreeBytes: 2, reason: 'disk' });
    for (let i = 0; i < 20; i++) { s.clock.advance(1); s.bus.emit('channel.live', live(`ch${i}`)); }
    s.clock.advance(1);
    s.bus.emit('recording.ready', { channel: 'news', file: 'a.mp4', bytes: 9, durationMs: 1, startedAt: 'x', endedAt: 'y' });
    s.clock.advance(1);
    s.bus.emit('channel.ended', { channel: 'news', sessionId: 's', reason: 'unpublished' });
    await s.recorder.flush();

    const stored = (await s.db.events.query({ limit: 100 })).items.reverse();
    t.same(stored.map((e) => e.occurredAt), Array.from({ length: 24 }, (_, i) => T0 + i), 'every event, at the time of emit');
    t.same(stored.map((e) => e.type), ['channel.preview', 'storage.low', ...Array(20).fill('channel.live'), 'recording.ready', 'channel.ended']);
    t.same(stored.slice(2, 22).map((e) => e.channelId), Array.from({ length: 20 }, (_, i) => `ch${i}`), 'in emit order');
    t.equal(stored[1].channelId, null, 'an origin-wide event has no channel');
    t.same(stored[22].payload, { channel: 'news', file: 'a.mp4', bytes: 9, durationMs: 1, startedAt: 'x', endedAt: 'y' });

    const typesFor = async (endpointId: string) => {
      const ids = (await s.db.outbox.listForEndpoint(endpointId, { limit: 500 })).items.map((d) => d.eventId);
      return Promise.all(ids.map(async (id) => (await s.db.events.get(id))!.type)).then((types) => types.sort());
    };
    t.same(await typesFor(byType.id), Array(20).fill('channel.live'), 'by type');
    t.same(await typesFor(two.id), ['channel.ended', 'recording.ready'], 'by either of two types');
    t.same(await typesFor(star.id), [], 'nothing for a disabled endpoint');
    t.equal(s.wakes.n, 22, 'the sender woken for the 22 events with deliveries, not for the 2 without');

    await s.db.webhooks.update(star.id, { enabled: true });
    s.bus.emit('channel.error', { channel: 'news', code: 'E', message: 'm' });
    await s.recorder.flush();
    t.same(await typesFor(star.id), ['channel.error'], '* takes any type');
    t.same(await typesFor(byType.id), Array(20).fill('channel.live'), 'and the others did not get it');
    t.equal(s.wakes.n, 23);
  });

  t.test('delivered once: signed, the event as body, the documented headers; logged', async (t) => {
    const s = await setup(t);
    const r = await s.receiver();
    const ep = await s.endpoint(r, ['channel.live']);
    s.startSender({ pollIntervalMs: 60_000 }); // woken by the recorder, not found by a poll
    s.bus.emit('channel.ended', { channel: 'news', sessionId: 's', reason: 'x' });
    s.bus.emit('channel.live', live());
    const [req] = await r.waitForRequests(1);
    const [stored] = (await s.db.events.query({ type: 'channel.live' })).items;
    t.same(req.verified, { ok: true, timestamp: T0 / 1000 }, 'the receiver verifies the signature');
    t.equal(req.method, 'POST');
    t.equal(req.path, '/hooks/sigma');
    t.same(JSON.parse(req.body), { id: stored.id, type: 'channel.live', channelId: 'news', occurredAt: new Date(T0).toISOString(), data: live() });
    t.match(req.headers, { 'content-type': 'application/json', 'user-agent': 'SigmaLive-Webhooks/1', 'sigma-event-id': stored.id,
      'sigma-event-type': 'channel.live', 'sigma-delivery-attempt': '1' });
    const d = await s.delivery(ep.id, (x) => x.state === 'delivered', 'delivered');
    t.match(d, { attempts: 1, lastStatus: 204, lastError: null, deliveredAt: T0, leaseOwner: null });
    t.match(await s.attempts(d.id), [{ attempt: 1, ok: true, status: 204 }]);
    await quiet();
    t.equal(r.received.length, 1, 'sent once (the ended event has no subscriber here)');
    t.match(s.lines.find((l) => l.msg === 'webhook delivered'),
      { level: 30, component: 'webhooks', endpointId: ep.id, eventId: stored.id, type: 'channel.live', channel: 'news', attempt: 1, status: 204 });
  });

  t.test('500 then 200: delivered at the 2nd attempt, at the backoff\'s time; the log shows both', async (t) => {
    const s = await setup(t);
    const r = await s.receiver((req) => (req.n === 1 ? { status: 500, body: 'oops' } : { status: 200 }));
    const ep = await s.endpoint(r);
    const sender = s.startSender({ random: () => 0.5 });
    s.bus.emit('channel.live', live());
    const failed = await s.delivery(ep.id, (d) => d.lastStatus === 500, 'the first attempt failed');
    t.match(failed, { state: 'pending', attempts: 1, lastError: 'HTTP 500', nextAttemptAt: T0 + 27_000 }, '30 s × 0.9 (the jitter given)');
    t.match(s.lines.find((l) => l.msg === 'webhook attempt failed; retrying'),
      { level: 40, attempt: 1, status: 500, error: 'HTTP 500', retryAt: new Date(T0 + 27_000).toISOString() });

    s.clock.now = T0 + 26_999;
    sender.wake();
    await quiet();
    t.equal(r.received.length, 1, 'not retried before its time');
    s.clock.now = T0 + 27_000; // no wake: the poll finds it
    const d = await s.delivery(ep.id, (x) => x.state === 'delivered', 'delivered');
    t.match(d, { attempts: 2, lastStatus: 200, deliveredAt: T0 + 27_000 });
    t.same(await s.attempts(d.id), [{ attempt: 1, ok: false, status: 500, at: T0 }, { attempt: 2, ok: true, status: 200, at: T0 + 27_000 }]);
    t.same(r.received.map((x) => [x.headers['sigma-delivery-attempt'], x.headers['sigma-event-id'], x.verified.ok]),
      [['1', d.eventId, true], ['2', d.eventId, true]], 'the same event, attempt counted, signed anew');
    await quiet();
    t.equal(r.received.length, 2);
  });

  t.test('timeout: an endpoint that does not answer fails after timeoutSec; recorded and retried later', async (t) => {
    const s = await setup(t);
    const r = await s.receiver(() => 'hang');
    const ep = await s.endpoint(r);
    s.startSender({ timeoutSec: 0.3 });
    s.bus.emit('channel.live', live());
    const d = await s.delivery(ep.id, (x) => x.lastError !== null, 'the attempt failed');
    t.match(d, { state: 'pending', attempts: 1, lastStatus: null, lastError: 'timeout after 0.3 s', nextAttemptAt: T0 + 27_000 });
    const [a] = await s.db.deliveryLog.listForDelivery(d.id);
    t.ok(a.durationMs >= 290 && a.durationMs < 2000, `it took the timeout: ${a.durationMs} ms`);
    t.equal(r.received.length, 1);
  });

  t.test('a redirect is a failure and is not followed; a refused connection fails; an endless 2xx body does not hold the attempt', async (t) => {
    const s = await setup(t);
    const r = await s.receiver((req) => {
      if (req.path.endsWith('/redirect')) return { status: 302, headers: { location: '/elsewhere' } };
      return req.path.endsWith('/endless') ? 'endless' : { status: 204 };
    });
    const closedPort = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    const redirect = await s.endpoint(r, ['*'], '/redirect');
    const refused = await s.endpoint(`http://127.0.0.1:${closedPort}/hook`);
    const endless = await s.endpoint(r, ['*'], '/endless');
    s.startSender({ timeoutSec: 5 });
    s.bus.emit('channel.live', live());
    t.match(await s.delivery(redirect.id, (d) => d.attempts > 0 && d.leaseOwner === null, 'redirect'),
      { state: 'pending', lastStatus: 302, lastError: 'HTTP 302: redirects are not followed' });
    t.match(await s.delivery(refused.id, (d) => d.attempts > 0 && d.leaseOwner === null, 'refused'),
      { state: 'pending', lastStatus: null, lastError: /^fetch failed: .*ECONNREFUSED/ });
    const e = await s.delivery(endless.id, (d) => d.state === 'delivered', 'endless');
    const [a] = await s.db.deliveryLog.listForDelivery(e.id);
    t.ok(a.durationMs < 2000, `delivered after reading 64 KiB at most, not at the 5 s timeout (${a.durationMs} ms)`);
    await quiet();
    t.same(r.received.map((x) => x.path).sort(), ['/hooks/sigma/endless', '/hooks/sigma/redirect'], '/elsewhere was never asked for');
  });

  t.test('restart in the middle of a retry: delivered after the restart, exactly once', async (t) => {
    const s = await setup(t);
    const r = await s.receiver((req) => (req.n === 1 ? { status: 503 } : { status: 200 }));
    const ep = await s.endpoint(r);
    const sender = s.startSender();
    s.bus.emit('recording.ready', { channel: 'news', file: 'a.mp4', bytes: 9, durationMs: 1, startedAt: 'x', endedAt: 'y' });
    const failed = await s.delivery(ep.id, (d) => d.lastStatus === 503, 'the first attempt failed');
    // The origin stops: sender, recorder and database closed while the delivery waits for its retry.
    await sender.close();
    await s.recorder.close();
    await s.db.close();

    s.clock.now = failed.nextAttemptAt;
    const after = await setup(t, { url: s.url, clock: s.clock });
    after.startSender();
    const [, second] = await r.waitForRequests(2);
    t.equal(second.headers['sigma-delivery-attempt'], '2');
    t.equal(second.headers['sigma-event-id'], failed.eventId);
    t.ok(second.verified.ok);
    const d = await after.delivery(ep.id, (x) => x.state === 'delivered', 'delivered after the restart');
    t.same(await after.attempts(d.id), [{ attempt: 1, ok: false, status: 503, at: T0 }, { attempt: 2, ok: true, status: 200, at: failed.nextAttemptAt }]);
    s.clock.advance(HOUR);
    await quiet();
    t.equal(r.received.filter((x) => x.n > 1).length, 1, 'exactly once after the success, even an hour later');
  });

  t.test('close while an attempt hangs: aborted after the bound, nothing recorded; the lease brings it back to another sender', async (t) => {
    const s = await setup(t);
    const r = await s.receiver((req) => (req.n === 1 ? 'hang' : { status: 204 }));
    const ep = await s.endpoint(r);
    const first = s.startSender({ timeoutSec: 10, leaseMs: 60_000, closeTimeoutMs: 200 });
    s.bus.emit('channel.live', live());
    await r.waitForRequests(1);
    const started = performance.now();
    await first.close();
    const took = performance.now() - started;
    t.ok(took >= 190 && took < 2000, `close waited for its bound, not the 10 s timeout (${took.toFixed(0)} ms)`);
    const leased = await s.delivery(ep.id, () => true, 'the delivery');
    t.match(leased, { state: 'pending', attempts: 1, leaseOwner: first.owner, leaseUntil: T0 + 60_000 });
    t.same(await s.attempts(leased.id), [], 'the abandoned attempt is not recorded');
    t.ok(s.lines.some((l) => l.msg.startsWith('webhook attempt abandoned at shutdown') && l.eventId === leased.eventId));

    s.startSender();
    await quiet();
    t.equal(r.received.length, 1, 'the lease still holds');
    s.clock.now = T0 + 60_000;
    const d = await s.delivery(ep.id, (x) => x.state === 'delivered', 'delivered after the lease expired');
    t.match(d, { attempts: 2, lastStatus: 204 });
    t.equal(r.received.length, 2);
  });

  t.test('gives up: failed once the next attempt would pass event time + retryForHours (clock driven)', async (t) => {
    const s = await setup(t);
    const r = await s.receiver(() => ({ status: 500 }));
    const ep = await s.endpoint(r);
    const sender = s.startSender({ retryForHours: 24, random: () => 0 });
    s.bus.emit('channel.live', live());
    let d: Delivery;
    for (let n = 1; ; n++) {
      d = await s.delivery(ep.id, (x) => x.attempts === n && x.leaseOwner === null, `attempt ${n} ended`);
      if (d.state !== 'pending' || n > 100) break;
      s.clock.now = d.nextAttemptAt;
      sender.wake();
    }
    const schedule = retrySchedule(24 * HOUR);
    t.equal(d.state, 'failed');
    t.equal(d.attempts, schedule.length, `${schedule.length} attempts`);
    t.same((await s.attempts(d.id)).map((a) => a.at - T0), schedule, 'at the documented times (no jitter)');
    t.ok(schedule[schedule.length - 1] <= 24 * HOUR);
    t.match(s.lines.find((l) => l.msg.startsWith('webhook delivery failed for good')), { level: 50, attempt: schedule.length, retryAt: null });
    s.clock.advance(48 * HOUR);
    await quiet();
    t.equal(r.received.length, schedule.length, 'never tried again');

    await s.db.outbox.redeliver(ep.id, d.eventId);
    sender.wake();
    const again = await s.delivery(ep.id, (x) => x.attempts === 1 && x.leaseOwner === null, 'the redelivery');
    t.match(again, { state: 'failed' }, 'a manual redelivery past the horizon: one attempt, no retries');
    t.equal(r.received[r.received.length - 1].headers['sigma-delivery-attempt'], '1');
  });

  t.test('manual redelivery of a delivered event: sent again at once, logged as a new attempt 1', async (t) => {
    const s = await setup(t);
    const r = await s.receiver();
    const ep = await s.endpoint(r);
    const sender = s.startSender({ pollIntervalMs: 60_000 });
    s.bus.emit('channel.live', live());
    const d = await s.delivery(ep.id, (x) => x.state === 'delivered', 'delivered');
    s.clock.advance(5000);
    await s.db.outbox.redeliver(ep.id, d.eventId);
    sender.wake();
    const [first, second] = await r.waitForRequests(2, 2000);
    t.equal(second.body, first.body, 'the same body: same event id, type, time and data');
    t.equal(second.headers['sigma-delivery-attempt'], '1');
    const redone = await s.delivery(ep.id, (x) => x.state === 'delivered' && x.deliveredAt === T0 + 5000, 'delivered again');
    t.same((await s.attempts(redone.id)).map((a) => [a.attempt, a.ok, a.at]), [[1, true, T0], [1, true, T0 + 5000]]);
  });

  t.test('bounded concurrency; two origins deliver each event exactly once; polling finds what another origin enqueued', async (t) => {
    const s = await setup(t);
    const r = await s.receiver((req) => ({ status: 204, delayMs: req.n <= 9 ? 150 : 30 }));
    const ep = await s.endpoint(r);
    const one = s.startSender({ concurrency: 3 });
    for (let i = 0; i < 9; i++) s.bus.emit('channel.live', live(`a${i}`));
    await r.waitForRequests(9);
    t.equal(r.maxInFlight, 3, 'at most `concurrency` requests open at once, and that many used');
    await one.close();

    // Another origin: its own database object (its own pool on PostgreSQL; SQLite allows one
    // connection per file and process, so there it is the same object) and its own sender.
    const other = target.kind === 'postgres' ? await s.open() : s.db;
    const a = s.startSender({ concurrency: 2 });
    const b = s.startSender({ concurrency: 2 }, other);
    // Stored by "the other origin" without waking anyone here: the polls must find them.
    for (let i = 0; i < 20; i++) await recordEvent(other, { type: 'channel.ended', channelId: `b${i}`, payload: { i } });
    const all = await r.waitForRequests(29, 10_000);
    await quiet();
    t.equal(r.received.length, 29, 'nothing sent twice');
    const ids = all.map((x) => x.headers['sigma-event-id']);
    t.equal(new Set(ids).size, 29, 'each event once');
    t.ok(r.maxInFlight <= 4, `two senders of 2: ${r.maxInFlight} at most at once`);
    const delivered = (await s.db.outbox.listForEndpoint(ep.id, { limit: 100, state: 'delivered' })).items;
    t.equal(delivered.length, 29);
    t.ok(delivered.every((d) => d.attempts === 1));
    const byOwner = (sender: WebhookSender) => s.lines.filter((l) => l.msg === 'webhook delivered' && l.sender === sender.owner).length;
    t.ok(byOwner(a) > 0 && byOwner(b) > 0, `both origins delivered (${byOwner(a)} + ${byOwner(b)})`);
  });
}
