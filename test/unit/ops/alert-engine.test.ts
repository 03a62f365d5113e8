import t, { type Test } from 'tap';
import { EventBus, type AlertCleared, type OriginEvents } from '../../../src/events.js';
import type { IngestSnapshot } from '../../../src/ingest/ingest-snapshot.js';
import { latencyProfile, type LatencyMode } from '../../../src/media/latency-profile.js';
import type { ChannelState } from '../../../src/media/channel.js';
import { configSchema } from '../../../src/config/schema.js';
import { AlertEngine, type WatchedChannel } from '../../../src/ops/alerts/alert-engine.js';
import { DiskWatch, EndpointFailures, EventLoopLag } from '../../../src/ops/alerts/origin-signals.js';
import { DiskSpaceGuard } from '../../../src/store/disk/storage-gate.js';
import type { StoredAlert } from '../../../src/db/types.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const MODES = { normal: [6, null], low: [2, null], 'ultra-low': [2, 0.2] } as const;

/** A publisher sending 30 fps 1 Mbit/s video and 128 kbit/s audio, keyframes 1 s apart, tracks in step. */
function healthy(now: number): IngestSnapshot {
  return {
    publishing: true, sessionStartedAt: now - 60_000, publisher: { address: '127.0.0.1', software: 'Lavf' }, transport: null,
    video: { codec: 'avc1.64001f', width: 1280, height: 720, bitrate1s: 1e6, bitrate10s: 1e6, frameRate: 30,
      keyframeInterval: { minMs: 1000, maxMs: 1000, lastMs: 1000 } },
    audio: { codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, bitrate1s: 128e3, bitrate10s: 128e3 },
    avDriftMs: 10, lastFrameAgeMs: 20,
    totals: { bytesIn: 1, framesIn: 1, droppedFrames: 0, lateFrames: 0, reconnects: 0, sessions: 1 },
    pipeline: { queued: 0, dropped: 0, rungs: [] },
  };
}

class StubChannel implements WatchedChannel {
  state: ChannelState = 'live';
  snapshot: IngestSnapshot;
  readonly profile;
  readonly archive = { tally: { queuedBytes: 0 } };
  constructor(readonly id: string, mode: LatencyMode, private readonly clock: ManualClock) {
    this.profile = latencyProfile(mode, { segmentTargetSec: MODES[mode][0], partTargetSec: MODES[mode][1], playlistWindowSec: 20, minSegments: 6 });
    this.snapshot = healthy(clock.now);
  }
  ingest(): IngestSnapshot {
    return this.snapshot;
  }
  /** The publisher stops sending: its last frame ages with the clock. */
  stall(since: number): void {
    this.snapshot = { ...this.snapshot, lastFrameAgeMs: this.clock.now - since };
  }
}

/** The alert events emitted (the only events these tests look at). */
type Emitted = { type: 'alert.raised' | 'alert.cleared'; payload: Omit<AlertCleared, 'raisedAt' | 'durationMs'> & Partial<AlertCleared> };

function setup(t: Test, o: { config?: Record<string, unknown>; channels?: Record<string, unknown>[]; store?: StoredAlert[]; loopLag?: () => number | null;
  objectStoreOldestSec?: () => number | undefined } = {}) {
  const clock = new ManualClock(T0);
  const config = configSchema.parse({ alerts: o.config ?? {}, channels: o.channels ?? [] });
  const events = new EventBus();
  const emitted: Emitted[] = [];
  events.onAny((type, payload) => { if (type.startsWith('alert.')) emitted.push({ type, payload } as Emitted); });
  const { logger, lines } = captureLogs('info');
  const channels: StubChannel[] = [];
  const disk = new DiskWatch(events);
  const webhooks = new EndpointFailures();
  const byId = new Map(config.channels.map((c) => [c.id, c.alerts]));
  const engine = new AlertEngine({
    config: config.alerts, channels: () => channels, channelConfig: (id) => byId.get(id),
    origin: () => ({ disk, minFreeMb: config.storage.minFreeMb, webhooks, objectStoreOldestSec: o.objectStoreOldestSec?.() }),
    loopLagP99Ms: o.loopLag ?? (() => 5),
    events, logger, now: clock.read,
    store: o.store && { list: async () => ({ items: o.store!, nextCursor: null }) },
  });
  t.teardown(() => { engine.stop(); disk.stop(); });
  /** Advances the clock a second at a time, evaluating at each, for `sec` seconds. */
  const tick = (sec = 1) => { for (let i = 0; i < sec; i++) { clock.advance(1000); engine.evaluate(); } };
  const add = (id: string, mode: LatencyMode = 'ultra-low') => { const c = new StubChannel(id, mode, clock); channels.push(c); return c; };
  const alertLines = () => lines.filter((l) => /^alert /.test(l.msg));
  return { clock, events, emitted, lines, alertLines, engine, channels, add, tick, disk, webhooks };
}

t.test('a stalled publisher: raised after the mode\'s afterSec, one event and one log line, cleared after clearSec with the same id', async (t) => {
  const s = setup(t);
  const news = s.add('news', 'ultra-low');
  const talk = s.add('talk', 'normal');
  s.tick(3);
  t.same(s.emitted, [], 'healthy publishers raise nothing');
  const since = s.clock.now;
  s.tick(1); news.stall(since); talk.stall(since);
  s.tick(1); news.stall(since); talk.stall(since); // 2 s: ultra-low's afterSec
  s.engine.evaluate();
  t.same(s.emitted.map((e) => [e.type, e.payload.channel]), [['alert.raised', 'news']], 'ultra-low stalls after 2 s, normal not yet');
  const raised = s.emitted[0].payload as OriginEvents['alert.raised'];
  t.match(raised, { rule: 'publisherStalled', channel: 'news', value: 2, threshold: 2, unit: 's', alertId: /^alr_/,
    message: 'last frame 2 s ago, the publisher is connected (stalled after 2 s)' });
  for (let i = 0; i < 10; i++) { s.tick(1); news.stall(since); talk.stall(since); s.engine.evaluate(); }
  t.same(s.emitted.map((e) => [e.type, e.payload.channel]), [['alert.raised', 'news'], ['alert.raised', 'talk']],
    'normal stalls after 5 s; no second event while it holds (no storm)');
  t.same(s.engine.activeAlerts().sort((a, b) => a.channel!.localeCompare(b.channel!)),
    [{ rule: 'publisherStalled', channel: 'news' }, { rule: 'publisherStalled', channel: 'talk' }]);
  const raiseLines = s.alertLines();
  t.equal(raiseLines.length, 2, 'one log line per raise');
  t.match(raiseLines[0], { level: 40, component: 'alerts', rule: 'publisherStalled', channel: 'news', alertId: raised.alertId, threshold: 2,
    msg: /^alert raised: last frame .* s ago/ });

  news.snapshot = healthy(s.clock.now);
  s.tick(2);
  t.equal(s.emitted.length, 2, 'frames again: not cleared before they have been arriving for clearSec (2 s)');
  s.tick(1);
  const cleared = s.emitted[2];
  t.equal(cleared.type, 'alert.cleared');
  t.match(cleared.payload, { alertId: raised.alertId, rule: 'publisherStalled', channel: 'news', value: 0.02, threshold: 2,
    raisedAt: new Date(T0 + 5000).toISOString(), durationMs: 13_000, message: /^cleared: last frame 0.02 s ago/ });
  t.match(s.alertLines()[2], { level: 30, alertId: raised.alertId, channel: 'news', durationMs: 13_000, msg: /^alert cleared: / });

  talk.state = 'reconnecting';
  talk.snapshot = { ...talk.snapshot, publishing: false, lastFrameAgeMs: null };
  s.tick(3);
  t.match(s.emitted[3], { type: 'alert.cleared', payload: { channel: 'talk', value: null, message: 'cleared: no publisher connected' } },
    'the publisher left: not a stall any more (channel.reconnected/ended say the rest)');
  t.same(s.engine.activeAlerts(), []);
});

t.test('bitrate floor and ceiling, keyframe interval, drift, drops, slow rung, archive queue: each raised and cleared by its reading', async (t) => {
  const s = setup(t, { config: { rules: { bitrateLow: { forSec: 3, clearSec: 2 }, bitrateHigh: { forSec: 0, clearSec: 0 },
    avDrift: { forSec: 2, clearSec: 2 }, transcodeSlow: { forSec: 0, clearSec: 0 }, archiveQueue: { forSec: 0, clearSec: 0 },
    framesDropped: { windowSec: 5, clearSec: 0 }, keyframeInterval: { clearSec: 0 } } } });
  const ch = s.add('news', 'low');
  const set = (f: (x: IngestSnapshot) => IngestSnapshot) => { ch.snapshot = f(ch.snapshot); };
  const last = () => s.emitted[s.emitted.length - 1];
  const expectTransition = (type: string, rule: string, what: string, extra: object = {}) =>
    t.match(last(), { type, payload: { rule, channel: 'news', ...extra } }, what);

  set((x) => ({ ...x, video: { ...x.video!, bitrate10s: 60_000 } }));
  s.tick(3);
  t.equal(s.emitted.length, 0, 'below the floor for less than forSec');
  s.tick(1);
  expectTransition('alert.raised', 'bitrateLow', '60 kbit/s under the 100 kbit/s floor for 3 s', { value: 60, threshold: 100, unit: 'kbit/s' });
  set((x) => ({ ...x, video: { ...x.video!, bitrate10s: 900_000 } }));
  s.tick(2);
  t.equal(last().type, 'alert.raised', 'above the floor for 1 s');
  s.tick(1);
  expectTransition('alert.cleared', 'bitrateLow', 'back above the floor for 2 s');

  set((x) => ({ ...x, video: { ...x.video!, bitrate10s: 30e6 } }));
  s.tick(1);
  expectTransition('alert.raised', 'bitrateHigh', '30 Mbit/s over the 25 Mbit/s ceiling', { value: 30000, threshold: 25000 });
  set((x) => ({ ...x, video: null, audio: { ...x.audio!, bitrate10s: 700e3 } }));
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.raised' }], 'audio-only at 700 kbit/s is over the audio ceiling: still one alert');
  set((x) => ({ ...x, audio: { ...x.audio!, bitrate10s: 128e3 } }));
  s.tick(1);
  expectTransition('alert.cleared', 'bitrateHigh', 'audio-only at 128 kbit/s: within the audio bounds', { value: 128, threshold: 512 });
  ch.snapshot = healthy(s.clock.now);

  set((x) => ({ ...x, video: { ...x.video!, keyframeInterval: { minMs: 1000, maxMs: 10_000, lastMs: 10_000 } } }));
  s.tick(1);
  expectTransition('alert.raised', 'keyframeInterval', 'a 10 s GOP in low mode (2 s segments)', { value: 10, threshold: 2.499, unit: 's' });
  set((x) => ({ ...x, video: { ...x.video!, keyframeInterval: { minMs: 1000, maxMs: 10_000, lastMs: 2000 } } }));
  s.tick(1);
  expectTransition('alert.cleared', 'keyframeInterval', 'the last interval is 2 s again');

  set((x) => ({ ...x, avDriftMs: -2000 }));
  s.tick(3);
  expectTransition('alert.raised', 'avDrift', 'audio 2 s behind', { value: -2000, threshold: 500, message: 'audio behind video by 2000 ms (at most 500 ms)' });
  set((x) => ({ ...x, avDriftMs: 20 }));
  s.tick(3);
  expectTransition('alert.cleared', 'avDrift', 'in step again');

  const drops = (n: number) => set((x) => ({ ...x, totals: { ...x.totals, droppedFrames: n } }));
  drops(3); s.tick(1);
  t.equal(last().payload.rule, 'avDrift', '3 frames dropped: under the 5 the rule waits for');
  drops(8); s.tick(1);
  expectTransition('alert.raised', 'framesDropped', '8 dropped in 5 s', { value: 8, threshold: 5, unit: 'frames' });
  s.tick(4);
  t.equal(last().type, 'alert.raised', 'still within the 5 s window');
  s.tick(2);
  expectTransition('alert.cleared', 'framesDropped', 'no drop for the whole window', { value: 0 });

  set((x) => ({ ...x, pipeline: { queued: 0, dropped: 0, rungs: [{ name: '720p', framesEncoded: 1, framesDropped: 0, realTimeFactor: 1 },
    { name: '480p', framesEncoded: 1, framesDropped: 0, realTimeFactor: 0.8 }] } }));
  s.tick(1);
  expectTransition('alert.raised', 'transcodeSlow', 'the slowest rung names itself', { value: 0.8, message: /rung 480p encodes at 0.8× real time/ });
  set((x) => ({ ...x, pipeline: { queued: 0, dropped: 0, rungs: [{ name: '480p', framesEncoded: 1, framesDropped: 0, realTimeFactor: 1 }] } }));
  s.tick(1);
  expectTransition('alert.cleared', 'transcodeSlow', 'real time again');

  ch.archive.tally.queuedBytes = 20 * 1024 * 1024;
  s.tick(1);
  expectTransition('alert.raised', 'archiveQueue', '20 MB waiting', { value: 20, threshold: 16, unit: 'MB' });
  ch.archive.tally.queuedBytes = 0;
  s.tick(1);
  expectTransition('alert.cleared', 'archiveQueue', 'written');
  t.equal(s.emitted.length, 14, 'seven alerts, each raised and cleared once');
});

t.test('settings: global over the mode default, the channel over both, disabled rules and channels', async (t) => {
  const s = setup(t, {
    config: { rules: { publisherStalled: { afterSec: 4 }, bitrateLow: { minKbps: 2000, forSec: 0 } } },
    channels: [
      { id: 'quiet', streamKey: 'quiet-key-123', alerts: { enabled: false } },
      { id: 'cheap', streamKey: 'cheap-key-123', alerts: { rules: { bitrateLow: { minKbps: 500 }, avDrift: { enabled: false } } } },
    ],
  });
  const quiet = s.add('quiet'), cheap = s.add('cheap'), other = s.add('other');
  for (const c of [quiet, cheap, other]) c.snapshot = { ...c.snapshot, avDriftMs: 5000 };
  s.tick(6);
  t.same(s.emitted.map((e) => [e.payload.rule, e.payload.channel]).sort(), [['avDrift', 'other'], ['bitrateLow', 'other']],
    'quiet: alerts off; cheap: 1000 kbit/s is above its own 500 floor and drift is off for it; other: the global 2000 floor');
  const since = s.clock.now;
  s.tick(3); other.stall(since); s.engine.evaluate();
  t.equal(s.emitted.filter((e) => e.payload.rule === 'publisherStalled').length, 0, 'the global afterSec (4 s) applies to ultra-low too');
  s.tick(1); other.stall(since); s.engine.evaluate();
  t.equal(s.emitted.filter((e) => e.payload.rule === 'publisherStalled').length, 1);

  s.channels.splice(s.channels.indexOf(other), 1);
  s.engine.evaluate();
  t.same(s.engine.activeAlerts(), [], 'a channel deleted: its alerts clear at once');
  t.ok(s.emitted.slice(-3).every((e) => e.type === 'alert.cleared' && e.payload.message === 'cleared: no longer evaluated (the channel or the rule is gone)'));
});

t.test('config: overrides are checked, with the key named', async (t) => {
  const errors = (alerts: unknown, channelAlerts?: unknown) => {
    const r = configSchema.safeParse({ alerts, channels: channelAlerts ? [{ id: 'a', streamKey: 'a-key-1234', alerts: channelAlerts }] : [] });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  t.same(errors({ rules: { publisherStalled: { afterSec: 3, forSec: 1 } } }), []);
  t.match(errors({ rules: { publisherStaled: {} } }), [/^alerts.rules: Unrecognized key\(s\) in object: 'publisherStaled'/]);
  t.match(errors({ rules: { avDrift: { forSec: -1 } } }), [/^alerts.rules.avDrift.forSec: Number must be greater than or equal to 0/]);
  t.match(errors({}, { rules: { diskLow: { enabled: false } } }), [/^channels.0.alerts.rules: Unrecognized key\(s\) in object: 'diskLow'/],
    'origin-wide rules are not per channel');
  t.match(errors({}, { rules: { bitrateLow: { minKpbs: 5 } } }), [/^channels.0.alerts.rules.bitrateLow: Unrecognized key/]);
});

t.test('origin-wide rules: a real disk guard below its minimum, a failing webhook endpoint, a blocked event loop', async (t) => {
  let free = 10 * 1024 * 1024 * 1024;
  const lag = new EventLoopLag();
  t.teardown(() => lag.stop());
  const s = setup(t, { config: { rules: { eventLoopLag: { forSec: 0, clearSec: 0, p99Ms: 150 }, webhookFailing: { consecutiveFailures: 2 } } },
    loopLag: () => lag.takeP99Ms() });
  const { logger } = captureLogs('silent');
  const guard = new DiskSpaceGuard({ dataDir: '/data', minFreeBytes: 512 * 1024 * 1024, resumeMarginBytes: 0, checkIntervalMs: 60_000,
    events: s.events, logger, freeBytes: async () => free });
  await guard.check();
  s.tick(1);
  free = 100 * 1024 * 1024;
  await guard.check();
  s.tick(1);
  t.match(s.emitted, [{ type: 'alert.raised', payload: { rule: 'diskLow', channel: null, value: 100, threshold: 512, unit: 'MB' } }]);
  free = 1024 * 1024 * 1024;
  await guard.check();
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.cleared', payload: { rule: 'diskLow', channel: null } }], 'space back: cleared');

  s.webhooks.record('wh_1', false, 'HTTP 500');
  s.tick(1);
  t.notOk(s.engine.activeAlerts().length, 'one failure is not yet failing');
  s.webhooks.record('wh_1', false, 'HTTP 500');
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.raised', payload: { rule: 'webhookFailing', value: 2, message: 'webhook endpoint wh_1 failed 2 attempts in a row (last: HTTP 500)' } }]);
  s.webhooks.record('wh_1', true);
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.cleared', payload: { rule: 'webhookFailing' } }], 'delivered again: cleared');

  await new Promise((r) => setTimeout(r, 100));
  s.tick(1); // a new measuring interval
  const end = Date.now() + 400;
  while (Date.now() < end) { /* the event loop is blocked for 400 ms, for real */ }
  await new Promise((r) => setTimeout(r, 50));
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.raised', payload: { rule: 'eventLoopLag', threshold: 150, unit: 'ms' } }]);
  t.ok((s.emitted.at(-1)!.payload.value ?? 0) >= 300, `p99 ${s.emitted.at(-1)!.payload.value} ms after a 400 ms block`);
  await new Promise((r) => setTimeout(r, 300));
  s.tick(1);
  t.match(s.emitted.slice(-1), [{ type: 'alert.cleared', payload: { rule: 'eventLoopLag' } }], 'a free loop: cleared');
});

t.test('objectStoreBehind: raised when the oldest waiting upload is older than maxAgeSec, cleared once the store catches up; silent without a store', async (t) => {
  let oldest: number | undefined = 0;
  const s = setup(t, { objectStoreOldestSec: () => oldest });
  s.tick(2);
  t.same(s.emitted, [], 'nothing waits');
  oldest = 121;
  s.tick(1);
  t.match(s.emitted, [{ type: 'alert.raised', payload: { rule: 'objectStoreBehind', channel: null, value: 121, threshold: 120, unit: 's' } }]);
  oldest = 0;
  s.tick(9);
  t.equal(s.emitted.length, 1, 'still raised before clearSec');
  s.tick(2);
  t.match(s.emitted.slice(-1), [{ type: 'alert.cleared', payload: { rule: 'objectStoreBehind' } }], 'the store caught up: cleared');
  const none = setup(t, {});
  none.tick(3);
  t.same(none.emitted, [], 'no object store: never raised');
});

t.test('alerts active at the last stop are taken back, then cleared when their condition is gone', async (t) => {
  const stored: StoredAlert = { id: 'alr_old', rule: 'publisherStalled', channelId: 'news', state: 'active', raisedAt: T0 - 60_000, clearedAt: null,
    value: 3, threshold: 2, unit: 's', message: 'last frame 3 s ago', clearValue: null, clearMessage: null };
  const s = setup(t, { store: [stored, { ...stored, id: 'alr_gone', channelId: 'deleted' }] });
  const news = s.add('news');
  news.state = 'reconnecting';
  news.snapshot = { ...news.snapshot, publishing: false, lastFrameAgeMs: null };
  await s.engine.start();
  t.same(s.engine.activeAlerts().length, 2);
  s.tick(1);
  t.match(s.emitted, [{ type: 'alert.cleared', payload: { alertId: 'alr_gone', message: /no longer evaluated/ } }], 'its channel is gone: cleared at once');
  s.tick(2);
  t.match(s.emitted[1], { type: 'alert.cleared', payload: { alertId: 'alr_old', rule: 'publisherStalled', channel: 'news', durationMs: 63_000,
    raisedAt: new Date(T0 - 60_000).toISOString() } }, 'the same alert id, cleared after clearSec');
  t.same(s.engine.activeAlerts(), []);
});
