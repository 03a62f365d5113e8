import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UploadLanes } from '../../../src/store/object/upload-lanes.js';
import { ReadCache } from '../../../src/store/object/read-cache.js';
import { formatSegmentLine, parseSegmentsLog } from '../../../src/store/archive/archive-layout.js';
import { SessionLog } from '../../../src/store/archive/session-log.js';
import { localFiles } from '../../../src/store/archive/archive-files.js';
import { silentLogger } from '../../../src/log.js';

const tick = () => new Promise((r) => setImmediate(r));

t.test('upload lanes: in order within a lane, lanes in parallel up to the concurrency, nothing before start', async (t) => {
  const lanes = new UploadLanes({ concurrency: 2, logger: silentLogger() });
  const log: string[] = [];
  const gates = new Map<string, () => void>();
  const job = (name: string) => () => new Promise<void>((resolve) => { log.push(`start ${name}`); gates.set(name, () => { log.push(`end ${name}`); resolve(); }); });
  const done = [lanes.add('a', job('a1')), lanes.add('a', job('a2')), lanes.add('b', job('b1')), lanes.add('c', job('c1'))];
  await tick();
  t.same(log, [], 'jobs wait for start()');
  t.equal(lanes.depth, 4);
  lanes.start();
  await tick();
  t.same(log, ['start a1', 'start b1'], 'two lanes at once; a2 waits for a1, c1 for a free slot');
  gates.get('a1')!();
  await tick(); await tick();
  t.same(log.slice(2), ['end a1', 'start c1'], 'the freed slot goes to the lane waiting longest; a2 queues behind it');
  gates.get('b1')!();
  await tick(); await tick();
  t.same(log.slice(4), ['end b1', 'start a2']);
  gates.get('c1')!(); gates.get('a2')!();
  await Promise.all(done);
  await lanes.idle();
  t.equal(lanes.depth, 0);
  t.equal(lanes.completed, 4);
});

t.test('upload lanes: a waiting job with the same key absorbs a new one; a running one does not', async (t) => {
  const lanes = new UploadLanes({ concurrency: 1, logger: silentLogger() });
  let runs = 0;
  let release: () => void = () => {};
  const slow = () => new Promise<void>((r) => { runs++; release = r; });
  const p1 = lanes.add('a', slow, 'log');
  lanes.start();
  await tick();
  const p2 = lanes.add('a', slow, 'log'); // p1 is running: p2 must run after it
  const p3 = lanes.add('a', slow, 'log'); // p2 waits: p3 joins it
  release();
  await p1;
  await tick();
  release();
  await Promise.all([p2, p3]);
  t.equal(runs, 2, 'two uploads for three appends, the last one after the last append');
});

t.test('upload lanes: a failing job is retried at the head of its lane; the jobs behind it wait', async (t) => {
  const lanes = new UploadLanes({ concurrency: 4, logger: silentLogger(), backoffMs: 5, maxBackoffMs: 20 });
  const order: string[] = [];
  let failures = 3;
  lanes.start();
  const first = lanes.add('a', async () => {
    if (failures-- > 0) throw new Error('store away');
    order.push('segment');
  });
  const second = lanes.add('a', async () => { order.push('index'); });
  t.ok(lanes.oldestPendingAt()! <= Date.now(), 'the oldest waiting job is known (local copies newer than it are kept)');
  await Promise.all([first, second]);
  t.same(order, ['segment', 'index'], 'the index goes up only after the segment it names');
  t.equal(lanes.retries, 3);
  t.equal(lanes.oldestPendingAt(), undefined);
});

t.test('read cache: bounded by bytes, least recently used out first, entries expire', async (t) => {
  let now = 0;
  const c = new ReadCache<Buffer>(1000, () => now);
  c.set('a', Buffer.alloc(100));
  c.set('b', Buffer.alloc(100));
  c.get('a');
  for (let i = 0; i < 8; i++) c.set(`x${i}`, Buffer.alloc(100));
  t.ok(c.size <= 1000, `${c.size} bytes held`);
  t.equal(c.get('b'), undefined, 'the least recently used went first');
  t.ok(c.get('x7'), 'the newest is there');
  c.set('short', Buffer.alloc(10), 50);
  now = 49;
  t.ok(c.get('short'));
  now = 50;
  t.equal(c.get('short'), undefined, 'expired');
  c.set('huge', Buffer.alloc(900));
  t.equal(c.get('huge'), undefined, 'an entry larger than an eighth of the cache is not kept');
  c.forget('x');
  t.equal(c.get('x7'), undefined, 'forget drops a prefix');
});

t.test('segments.log of several origins read one after the other: time order, each MSN once', async (t) => {
  const seg = (msn: number, pdt: number) => formatSegmentLine({ msn, initId: 1, discontinuity: msn === 20, programDateTimeMs: pdt, startMs: 0, durationMs: 2000, bytes: 10 });
  const originA = seg(10, 1000) + seg(11, 3000) + seg(12, 5000);
  const originB = seg(20, 9000) + seg(21, 11000);
  const redundant = seg(11, 3000);
  const merged = parseSegmentsLog(originB + originA + redundant, '2026120706');
  t.same(merged.map((s) => s.msn), [10, 11, 12, 20, 21]);
  t.same(merged.filter((s) => s.discontinuity).map((s) => s.msn), [20], 'the move\'s discontinuity is kept');
  t.same(parseSegmentsLog(originA + 'torn li', 'h').map((s) => s.msn), [10, 11, 12], 'one origin\'s log reads as before');
});

t.test('sessions.log of several origins: in time order, each once; one left open by a dead origin ends where the next starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-sessions-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const merged = 'S 5000\nE 9000\n' + 'S 1000\nL 2000 2500\n' + 'S 1000\nL 2000 2500\nE 4000\n';
  await localFiles.writeAtomic(join(dir, 'sessions.log'), merged);
  const list = await new SessionLog(dir).list();
  t.same(list, [{ startMs: 1000, endMs: 4000, slates: [{ startMs: 2000, endMs: 2500 }] }, { startMs: 5000, endMs: 9000, slates: [] }],
    'the copy that knows the end wins');
  await localFiles.writeAtomic(join(dir, 'sessions.log'), 'S 5000\n' + 'S 1000\n');
  t.same((await new SessionLog(dir).list()).map((s) => [s.startMs, s.endMs]), [[1000, 5000], [5000, undefined]],
    'the dead origin\'s open session ends when the channel started elsewhere; the newest stays open');
});
