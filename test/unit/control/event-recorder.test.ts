/**
 * EventRecorder against databases that misbehave on purpose (a fake transaction): emitting
 * never throws nor waits, order is kept through failures, the queue is bounded. The real
 * databases are in webhooks-suite.ts.
 */
import t from 'tap';
import { EventRecorder } from '../../../src/control/event-recorder.js';
import { UniqueViolationError } from '../../../src/db/errors.js';
import type { Repositories } from '../../../src/db/repository.js';
import type { EventInput, StoredEvent } from '../../../src/db/types.js';
import { EventBus } from '../../../src/events.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const T0 = Date.UTC(2026, 10, 25, 12);

/** A database whose every try calls behaviour (which may wait or throw) before "storing". */
function fakeDb(behaviour: (input: EventInput, call: number) => Promise<void> | void = () => undefined) {
  const stored: EventInput[] = [];
  const tries: EventInput[] = [];
  const state = { active: 0, maxActive: 0, calls: 0 };
  const db = {
    async transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      try {
        const tx = {
          events: {
            append: async (input: EventInput): Promise<StoredEvent> => {
              tries.push(input);
              await behaviour(input, ++state.calls);
              stored.push(input);
              return { id: input.id!, type: input.type, channelId: input.channelId ?? null, occurredAt: input.occurredAt!, payload: input.payload };
            },
          },
          outbox: { enqueueForEvent: async (e: StoredEvent) => (e.type === 'channel.live' ? 2 : 0) },
          alerts: { project: async () => {} },
        };
        return await fn(tx as unknown as Repositories);
      } finally {
        state.active--;
      }
    },
  };
  return { db, stored, tries, state };
}

function recorderOn(db: ReturnType<typeof fakeDb>['db'], opts: { maxQueue?: number } = {}) {
  const bus = new EventBus();
  const { logger, lines } = captureLogs();
  const wakes = { n: 0 };
  const recorder = new EventRecorder({ bus, db, logger, sender: { wake: () => { wakes.n++; } }, clock: () => T0, retryMinMs: 1, retryMaxMs: 4, ...opts });
  t.teardown(() => recorder.close(100));
  return { bus, lines, wakes, recorder };
}

const live = (i: number) => ({ channel: `ch${i}`, sessionId: `s${i}`, startedBy: 'auto' as const });

t.test('stored one at a time in emit order, id and time fixed at emit; the sender woken for events with deliveries', async (t) => {
  const random = seededRandom(t, 'transaction delays');
  const f = fakeDb(() => new Promise((r) => setTimeout(r, random() * 4)));
  const { bus, recorder, wakes } = recorderOn(f.db);
  const payload = { channel: 'news', sessionId: 's0', startedBy: 'auto' as const };
  bus.emit('channel.live', payload);
  payload.channel = 'changed after emit';
  bus.emit('storage.low', { dataDir: '/d', freeBytes: 1, minFreeBytes: 2, reason: 'r' });
  for (let i = 1; i <= 30; i++) bus.emit(i % 2 ? 'channel.live' : 'channel.ended', { ...live(i), reason: 'x' });
  t.equal(recorder.queued, 32, 'queued at once, nothing stored yet (emit did not wait)');
  await recorder.flush();
  t.equal(f.state.maxActive, 1, 'never two transactions at once');
  t.same(f.stored.map((e) => e.channelId), ['news', null, ...Array.from({ length: 30 }, (_, i) => `ch${i + 1}`)], 'in emit order');
  t.same(f.stored[0].payload, { channel: 'news', sessionId: 's0', startedBy: 'auto' }, 'a copy taken at emit');
  t.ok(f.stored.every((e) => e.occurredAt === T0 && /^evt_/.test(e.id!)));
  t.equal(new Set(f.stored.map((e) => e.id)).size, 32);
  t.equal(wakes.n, 1 + 15, 'woken after each event that enqueued deliveries, only those');
  t.same(recorder.counts, { stored: 32, dropped: 0 });
});

t.test('a database that fails every try: emit does not throw; the head event is retried, logged once with type and channel', async (t) => {
  const f = fakeDb(() => { throw new Error('SQLITE_IOERR'); });
  const { bus, recorder, lines } = recorderOn(f.db);
  t.doesNotThrow(() => { for (let i = 0; i < 5; i++) bus.emit('channel.live', live(i)); });
  await new Promise((r) => setTimeout(r, 60));
  t.ok(f.tries.length > 3, `the head event retried (${f.tries.length} tries)`);
  t.ok(f.tries.every((e) => e.channelId === 'ch0' && e.id === f.tries[0].id), 'only the head, with the same id each time: order is kept');
  const warned = lines.filter((l) => l.msg.startsWith('event not stored yet'));
  t.equal(warned.length, 1, 'logged once, not at every try');
  t.match(warned[0], { type: 'channel.live', channel: 'ch0', err: { message: 'SQLITE_IOERR' } });
  await recorder.close(20);
  t.match(lines.find((l) => l.msg.startsWith('event recorder closed')), { dropped: 5, types: { 'channel.live': 5 } },
    'what close could not store is counted in one line');
  t.same(recorder.counts, { stored: 0, dropped: 5 });
  t.doesNotThrow(() => bus.emit('channel.live', live(9)), 'after close the bus is no longer listened to');
  t.equal(recorder.queued, 0);
});

t.test('a database that never answers: emit stays instant, the queue is bounded, each dropped event logged', async (t) => {
  const f = fakeDb(() => new Promise(() => undefined));
  const { bus, recorder, lines } = recorderOn(f.db, { maxQueue: 5 });
  const started = performance.now();
  for (let i = 0; i < 8; i++) bus.emit('channel.live', live(i));
  for (let i = 0; i < 1000; i++) bus.emit('channel.error', { channel: 'x', code: 'C', message: 'm' });
  const took = performance.now() - started;
  t.ok(took < 200, `1008 emits took ${took.toFixed(1)} ms`);
  t.equal(recorder.queued, 5);
  const dropped = lines.filter((l) => l.msg.startsWith('event dropped: the event store queue is full'));
  t.equal(dropped.length, 1003, 'one line per dropped event');
  t.match(dropped[0], { type: 'channel.live', channel: 'ch5', level: 50 });
  t.match(dropped[3], { type: 'channel.error', channel: 'x' });
  await recorder.close(20);
  t.match(lines.find((l) => l.msg.startsWith('event recorder closed')), { dropped: 4 }, 'the one in the database\'s hands is not counted as left');
});

t.test('transient failures: retried in order, each event stored once, the late one logged when stored', async (t) => {
  const f = fakeDb((_input, call) => { if (call >= 3 && call <= 6) throw new Error('connection reset'); });
  const { bus, recorder, lines } = recorderOn(f.db);
  for (let i = 0; i < 10; i++) bus.emit('channel.live', live(i));
  await recorder.flush();
  t.same(f.stored.map((e) => e.channelId), Array.from({ length: 10 }, (_, i) => `ch${i}`));
  t.same(f.tries.slice(2, 7).map((e) => e.channelId), ['ch2', 'ch2', 'ch2', 'ch2', 'ch2']);
  t.match(lines.find((l) => l.msg === 'event stored after database errors'), { channel: 'ch2', tries: 5 });
});

t.test('an unclear commit (stored, answer lost): the retry meets its own id and counts it stored once', async (t) => {
  const seen = new Set<string>();
  const f = fakeDb((input) => {
    if (seen.has(input.id!)) throw new UniqueViolationError('events');
    seen.add(input.id!);
    if (input.channelId === 'ch1') return Promise.reject(new Error('Connection terminated unexpectedly'));
  });
  const { bus, recorder, wakes } = recorderOn(f.db);
  for (let i = 0; i < 3; i++) bus.emit('channel.live', live(i));
  await recorder.flush();
  t.same(recorder.counts, { stored: 3, dropped: 0 });
  t.equal(wakes.n, 3);
});

t.test('refused for good (a constraint) or not JSON: dropped with a line, the queue goes on', async (t) => {
  const f = fakeDb((input) => { if (input.channelId === 'ch1') throw new UniqueViolationError('events'); });
  const { bus, recorder, lines } = recorderOn(f.db);
  for (let i = 0; i < 3; i++) bus.emit('channel.live', live(i));
  t.doesNotThrow(() => bus.emit('channel.error', { channel: 'ch9', code: 'X', message: 10n as unknown as string }));
  await recorder.flush();
  t.same(f.stored.map((e) => e.channelId), ['ch0', 'ch2']);
  t.match(lines.find((l) => l.msg === 'event dropped: the database refused it'), { type: 'channel.live', channel: 'ch1' });
  t.match(lines.find((l) => l.msg.includes('cannot be stored as JSON')), { type: 'channel.error' });
  t.same(recorder.counts, { stored: 2, dropped: 2 });
});

t.test('a transaction that throws before returning a promise: still never reaches the emitter', async (t) => {
  let calls = 0;
  const db = { transaction: (): Promise<never> => { calls++; throw new TypeError('pool is closed'); } };
  const { bus, recorder, lines } = recorderOn(db as unknown as ReturnType<typeof fakeDb>['db']);
  t.doesNotThrow(() => bus.emit('recording.ready', { channel: 'news', file: 'f', bytes: 1, durationMs: 1, startedAt: 'a', endedAt: 'b' }));
  await new Promise((r) => setTimeout(r, 20));
  t.ok(calls >= 2, `retried (${calls} calls)`);
  t.match(lines.find((l) => l.msg.startsWith('event not stored yet')), { type: 'recording.ready', channel: 'news', err: { message: 'pool is closed' } });
  await recorder.close(10);
  t.same(recorder.counts, { stored: 0, dropped: 1 });
});
