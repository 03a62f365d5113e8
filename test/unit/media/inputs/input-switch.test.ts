/**
 * The input switch alone, with a recording publication and a hand-driven clock: which input is
 * on air when one disconnects, stalls, returns or is chosen by an operator; that a switch starts
 * on a keyframe (a buffered one when it lies after the air, else the next); that each input's
 * clock is mapped onto the channel's timeline through the wall clock and never goes back; the
 * slate; and the events.
 */
import t, { type Test } from 'tap';
import { InputSwitch, type SwitchedPublication } from '../../../../src/media/inputs/input-switch.js';
import type { FailoverSettings } from '../../../../src/media/inputs/failover-policy.js';
import type { SlateClipLike } from '../../../../src/media/inputs/slate-loop.js';
import type { InputFeed } from '../../../../src/media/inputs/input-feed.js';
import { EventBus, type OriginEvents } from '../../../../src/events.js';
import { silentLogger } from '../../../../src/log.js';
import type { AccessUnit, TrackInfo } from '../../../../src/media/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tracks = (tag: number): TrackInfo[] => [
  { kind: 'video', id: 0, codec: 'h264', timescale: 1000, codecConfig: Buffer.from([1, tag]), width: 640, height: 360, frameRate: 25 },
  { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, codecConfig: Buffer.from([0x12, 0x10]), sampleRate: 48000, channels: 2 },
];

class RecordingPublication implements SwitchedPublication {
  closed = false;
  wallOffset: number | undefined;
  readonly out: { trackId: number; dts: number; keyframe: boolean; tag: number }[] = [];
  readonly switches: { tracks: TrackInfo[]; note: string }[] = [];
  tracks: TrackInfo[] | undefined;
  constructor(private readonly now: () => number) {}
  setTracks(tracks: TrackInfo[]): void { this.tracks = tracks; }
  write(au: AccessUnit): void {
    this.wallOffset ??= this.now() - au.dts;
    this.out.push({ trackId: au.trackId, dts: au.dts, keyframe: au.keyframe, tag: au.data[0] });
  }
  switchSource(tracks: TrackInfo[], note: string): void { this.switches.push({ tracks, note }); this.gapEndMs = undefined; }
  /** Where a gap reached on the media clock while one is on (startGap), advanced by the wall clock. */
  gapEndMs: number | undefined;
  readonly gaps: string[] = [];
  startGap(note: string): void { this.gaps.push(note); this.gapEndMs = this.now() - this.wallOffset!; }
  advanceGap(now: number): number | undefined {
    if (this.gapEndMs === undefined) return undefined;
    this.gapEndMs = Math.max(this.gapEndMs, now - this.wallOffset!);
    return this.gapReachedMs = this.gapEndMs;
  }
  /** The last gap end handed to the switch (kept after the gap is over). */
  gapReachedMs = 0;
  describePublisher(): void {}
  dropped(): void {}
  close(): void { this.closed = true; }
}

interface Rig {
  sw: InputSwitch;
  clock: { now: number };
  pubs: RecordingPublication[];
  events: { name: string; payload: unknown }[];
  ended: string[];
  settings: FailoverSettings;
}

function rig(o: Partial<FailoverSettings> = {}, slate?: SlateClipLike): Rig {
  const clock = { now: 1_000_000 };
  const pubs: RecordingPublication[] = [];
  const events: Rig['events'] = [];
  const bus = new EventBus();
  bus.onAny((name, payload) => events.push({ name, payload }));
  const ended: string[] = [];
  const settings: FailoverSettings = { stallMs: 180, minBitrateKbps: 0, failback: 'auto', failbackAfterMs: 1000, slate: 'off', ...o };
  const sw = new InputSwitch({
    host: {
      id: 'ch',
      begin: () => { const p = new RecordingPublication(() => clock.now); pubs.push(p); return p; },
      sourceTracks: tracks(9),
      endSession: (reason) => ended.push(reason),
    },
    settings: () => settings, reconnectWindowMs: 500, events: bus, logger: silentLogger(), now: () => clock.now,
    slate: slate && (async () => slate),
  });
  return { sw, clock, pubs, events, ended, settings };
}

/**
 * An encoder: 25 fps video with a keyframe every `gop` frames and 48 kHz audio, its own clock
 * starting at `base`; `tag` (first data byte) tells the inputs apart in the output.
 */
class Encoder {
  private frame = 0;
  private audio = 0;
  constructor(readonly feed: InputFeed, private readonly base: number, private readonly tag: number, private readonly gop = 10) {
    feed.setTracks(tracks(tag));
  }
  /** Sends what the encoder makes in `ms` of wall time (40 ms video frames, ~21 ms audio frames), advancing the clock. */
  run(r: Rig, ms: number): void {
    const end = r.clock.now + ms;
    while (r.clock.now < end) {
      const vd = this.base + this.frame * 40, ad = this.base + Math.round(this.audio * 21.333);
      if (ad < vd) {
        this.feed.write({ trackId: 1, dts: ad, pts: ad, keyframe: true, data: Buffer.from([this.tag]) });
        this.audio++;
      } else {
        this.feed.write({ trackId: 0, dts: vd, pts: vd, keyframe: this.frame % this.gop === 0, data: Buffer.from([this.tag]) });
        this.frame++;
        r.clock.now += 40;
      }
    }
  }
  /** Time passes with nothing sent (a stalled or gone encoder): its clock moves on too. */
  skip(ms: number): void {
    this.frame += Math.round(ms / 40);
    this.audio = Math.ceil((this.frame * 40) / 21.333);
  }
}

/** Runs several encoders side by side for `ms`, in 40 ms steps. */
function runAll(r: Rig, encoders: Encoder[], ms: number): void {
  for (let done = 0; done < ms; done += 40) {
    const start = r.clock.now;
    for (const e of encoders) { r.clock.now = start; e.run(r, 40); }
  }
}

function checkMonotonic(t: Test, p: RecordingPublication): void {
  for (const track of [0, 1]) {
    const dts = p.out.filter((o) => o.trackId === track).map((o) => o.dts);
    t.ok(dts.every((d, i) => i === 0 || d > dts[i - 1]), `track ${track}: timestamps only go forward (${dts.length} frames)`);
  }
}

t.test('one input: frames pass through untouched; it leaves, the session ends (no slate by default)', async (t) => {
  const r = rig();
  const feed = r.sw.connect('primary', '10.0.0.1');
  const enc = new Encoder(feed, 5000, 1);
  enc.run(r, 400);
  const p = r.pubs[0];
  t.same(p.tracks, tracks(1));
  t.equal(p.out[0].dts, 5000, 'the first frame keeps its timestamp');
  t.equal(r.sw.status().active, 'primary');
  t.ok(r.sw.busy('primary'));
  t.throws(() => r.sw.connect('primary', '10.0.0.9'), /already has a publisher/);
  feed.close('unpublish');
  t.ok(p.closed, 'the publication ends when its only input leaves');
  t.same(r.events, [], 'no switch events');
  t.equal(r.sw.status().active, null);
});

t.test('primary goes silent, then disconnects: the backup goes on air at once from a keyframe it sent since, on the wall clock', async (t) => {
  const r = rig();
  const primary = r.sw.connect('primary', '10.0.0.1'), backup = r.sw.connect('backup1', '10.0.0.2');
  const a = new Encoder(primary, 0, 1), b = new Encoder(backup, 70_000, 2, 5);
  runAll(r, [a, b], 2000);
  t.equal(r.sw.status().inputs.length, 2);
  t.ok(r.sw.status().inputs.every((i) => i.healthy || i.problem === null || i.name === 'backup1'));
  await sleep(60); // a health tick: the backup is judged fit
  const p = r.pubs[0];
  const lastPrimary = p.out[p.out.length - 1];
  runAll(r, [b], 120); // the primary sends nothing (stallMs 180 not reached: no tick ran), the backup sends a keyframe
  primary.close('socket closed');
  t.equal(p.switches.length, 1, 'switched');
  t.match(p.switches[0].note, /backup1.*disconnected/);
  t.same(p.switches[0].tracks, tracks(2), 'with the backup\'s tracks');
  runAll(r, [b], 400);
  const afterSwitch = p.out.slice(p.out.findIndex((o) => o.tag === 2));
  t.ok(afterSwitch.length > 0 && afterSwitch.every((o) => o.tag === 2), 'only the backup after the switch');
  t.ok(afterSwitch[0].keyframe && afterSwitch[0].trackId === 0, 'starting with a video keyframe');
  t.ok(afterSwitch[0].dts > lastPrimary.dts, 'after the last primary frame on the channel\'s timeline');
  // Wall clock: the backup frame's channel time maps back to when it arrived (within a frame).
  t.ok(Math.abs(afterSwitch[0].dts - p.out[0].dts - 2000) < 400, `about where the wall clock is (${afterSwitch[0].dts})`);
  checkMonotonic(t, p);
  t.same(r.events.map((e) => e.name), ['input.failover']);
  t.match(r.events[0].payload, { channel: 'ch', from: 'primary', to: 'backup1', reason: 'disconnected' });
  t.equal(r.sw.status().active, 'backup1');
  t.equal(r.sw.status().failovers, 1);
  r.sw.reset();
});

t.test('primary stalls while connected: switch at the backup\'s next keyframe; the primary back and healthy: failback', async (t) => {
  const r = rig({ failbackAfterMs: 600 });
  const primary = r.sw.connect('primary', '10.0.0.1'), backup = r.sw.connect('backup1', '10.0.0.2');
  const a = new Encoder(primary, 0, 1), b = new Encoder(backup, 123_456, 2, 10);
  runAll(r, [a, b], 1000);
  await sleep(60);
  // The primary sends nothing for a while; the backup goes on.
  const p = r.pubs[0];
  for (let i = 0; i < 12; i++) { runAll(r, [b], 40); a.skip(40); await sleep(15); }
  t.equal(r.sw.status().active, 'backup1', 'on the backup after the stall');
  t.match(r.events.at(-1)?.payload, { from: 'primary', to: 'backup1', reason: 'stalled' });
  // The primary comes back; after failbackAfterMs of health it returns on air at its keyframe.
  for (let i = 0; i < 40 && r.sw.status().active !== 'primary'; i++) { runAll(r, [a, b], 40); await sleep(15); }
  t.equal(r.sw.status().active, 'primary', 'failback');
  t.match(r.events.at(-1), { name: 'input.restored', payload: { input: 'primary', from: 'backup1', reason: 'failback' } });
  checkMonotonic(t, p);
  t.equal(p.switches.length, 2);
  r.sw.reset();
});

t.test('an operator picks the backup: it stays on air (no failback) until it fails; unfit inputs are refused', async (t) => {
  const r = rig({ failbackAfterMs: 100 });
  const primary = r.sw.connect('primary', '10.0.0.1'), backup = r.sw.connect('backup1', '10.0.0.2');
  const a = new Encoder(primary, 0, 1), b = new Encoder(backup, 500, 2, 5);
  t.match(r.sw.activate('backup2'), { ok: false, reason: /not connected/ });
  t.match(r.sw.activate('backup1'), { ok: false, reason: /no-keyframe/ }, 'nothing received yet');
  runAll(r, [a, b], 600);
  await sleep(60);
  t.match(r.sw.activate('backup1'), { ok: true });
  runAll(r, [a, b], 400);
  t.equal(r.sw.status().active, 'backup1');
  t.match(r.events.at(-1)?.payload, { to: 'backup1', reason: 'manual' });
  for (let i = 0; i < 10; i++) { runAll(r, [a, b], 40); await sleep(15); }
  t.equal(r.sw.status().active, 'backup1', 'pinned: no auto failback');
  backup.close('gone');
  t.equal(r.sw.status().active, 'backup1', 'still the backup\'s last frames until the primary\'s next keyframe');
  runAll(r, [a], 400);
  t.equal(r.sw.status().active, 'primary', 'the pinned input fails: the best fit input');
  t.match(r.events.at(-1), { name: 'input.restored', payload: { reason: 'disconnected' } });
  r.sw.reset();
});

t.test('no input fit: the slate plays in real time; an input back takes over; all gone for the reconnect window: the session ends', async (t) => {
  const clip: SlateClipLike = {
    tracks: tracks(7), durationMs: 200,
    units: [0, 40, 80, 120, 160].flatMap((d) => [
      { trackId: 0, dts: d, pts: d, keyframe: d === 0, data: Buffer.from([7]) },
      { trackId: 1, dts: d + 1, pts: d + 1, keyframe: true, data: Buffer.from([7]) }]),
  };
  const r = rig({ slate: 'auto' }, clip);
  const primary = r.sw.connect('primary', '10.0.0.1'), backup = r.sw.connect('backup1', '10.0.0.2');
  const a = new Encoder(primary, 0, 1), b = new Encoder(backup, 0, 2);
  runAll(r, [a, b], 800);
  await sleep(60);
  const p = r.pubs[0];
  backup.close('gone');
  t.equal(r.sw.status().active, 'primary');
  primary.close('gone too');
  t.equal(r.sw.status().active, 'slate', 'the slate goes on air');
  await sleep(20); // the clip is made (a promise)
  // 400 ms of the 500-ms reconnect window: the health tick must not reach the deadline before the input returns.
  for (let i = 0; i < 8; i++) { r.clock.now += 50; await sleep(15); }
  const slate = p.out.filter((o) => o.tag === 7);
  t.ok(slate.length >= 15, `slate frames flow in real time (${slate.length})`);
  t.match(p.switches.at(-1)?.note, /slate/);
  t.same(p.switches.at(-1)?.tracks, tracks(7));
  // An input comes back within the window: it is on air at its first keyframe.
  const back = r.sw.connect('backup1', '10.0.0.3');
  const c = new Encoder(back, 9_000_000, 3);
  for (let i = 0; i < 15 && r.sw.status().active !== 'backup1'; i++) { runAll(r, [c], 40); await sleep(15); }
  t.equal(r.sw.status().active, 'backup1', 'the returning input replaces the slate');
  for (let i = 0; i < 8; i++) { runAll(r, [c], 80); await sleep(15); }
  t.same(r.ended, [], 'past the reconnect window of the first departure: the returned input keeps the session on');
  checkMonotonic(t, p);
  t.ok(r.sw.status().slateMs > 0, 'slate time is counted');
  t.same(r.events.map((e) => [e.name, (e.payload as OriginEvents['input.failover']).to ?? (e.payload as OriginEvents['input.restored']).input]),
    [['input.failover', 'slate'], ['input.failover', 'backup1']]);
  // Everyone leaves; the slate covers the reconnect window (500 ms), then the session ends.
  back.close('gone');
  t.equal(r.sw.status().active, 'slate');
  for (let i = 0; i < 15 && r.ended.length === 0; i++) { r.clock.now += 50; await sleep(15); }
  t.match(r.ended, [/no input came back within 0.5 s/]);
  r.sw.reset();
});

t.test("slate 'gap': no picture is made; the gap goes on air, an input back starts after it, the events say 'gap'", async (t) => {
  let made = 0;
  const r = rig({ slate: 'gap' });
  // A slate maker that must not be asked: 'gap' never needs a picture.
  const sw = r.sw as unknown as { o: { slate?: () => Promise<SlateClipLike> } };
  sw.o.slate = async () => { made++; throw new Error('not for a gap'); };
  const primary = r.sw.connect('primary', '10.0.0.1');
  const a = new Encoder(primary, 0, 1);
  a.run(r, 800);
  await sleep(60);
  const p = r.pubs[0];
  primary.close('gone');
  t.equal(r.sw.status().active, 'gap', 'the gap is on air');
  t.equal(p.gaps.length, 1, 'the publication was asked for a gap');
  for (let i = 0; i < 6; i++) { r.clock.now += 100; await sleep(60); }
  t.ok(p.gapReachedMs >= 800 + 500, `the gap advances with the wall clock (to ${p.gapReachedMs} ms)`);
  // The input returns: its first frame follows the gap already listed, whatever its own clock says.
  const back = r.sw.connect('primary', '10.0.0.1');
  const c = new Encoder(back, 5_000_000, 3);
  for (let i = 0; i < 15 && r.sw.status().active !== 'primary'; i++) { runAll(r, [c], 40); await sleep(15); }
  t.equal(r.sw.status().active, 'primary', 'the returning input replaces the gap');
  const first = p.out.find((o) => o.tag === 3)!;
  t.ok(first.dts > p.gapReachedMs, `its first frame (${first.dts}) follows the gap's end (${p.gapReachedMs})`);
  checkMonotonic(t, p);
  t.equal(made, 0, 'no slate picture was made');
  t.ok(r.sw.status().slateMs > 0, 'gap time is counted with the slate time');
  t.same(r.events.map((e) => [e.name, (e.payload as OriginEvents['input.failover']).to ?? (e.payload as OriginEvents['input.restored']).input]),
    [['input.failover', 'gap'], ['input.restored', 'primary']]);
  r.sw.reset();
});

t.test("slate 'auto' without a backup input ever connected: no slate, the session waits as before", async (t) => {
  const r = rig({ slate: 'auto' }, { tracks: tracks(7), durationMs: 40, units: [{ trackId: 0, dts: 0, pts: 0, keyframe: true, data: Buffer.from([7]) }] });
  const primary = r.sw.connect('primary', '10.0.0.1');
  new Encoder(primary, 0, 1).run(r, 400);
  primary.close('gone');
  t.ok(r.pubs[0].closed, 'the publication ends: the channel\'s reconnect window applies');
  t.same(r.events, []);
});

t.test('both inputs die at once (the primary first, a switch to the backup pending): the slate, not the end of the session', async (t) => {
  const clip: SlateClipLike = { tracks: tracks(7), durationMs: 40, units: [{ trackId: 0, dts: 0, pts: 0, keyframe: true, data: Buffer.from([7]) }] };
  const r = rig({ slate: 'auto' }, clip);
  const primary = r.sw.connect('primary', '10.0.0.1'), backup = r.sw.connect('backup1', '10.0.0.2');
  runAll(r, [new Encoder(primary, 0, 1), new Encoder(backup, 0, 2)], 800);
  await sleep(60);
  primary.close('killed');
  t.equal(r.sw.status().active, 'primary', 'waiting for the backup\'s next keyframe');
  backup.close('killed too');
  t.equal(r.sw.status().active, 'slate');
  t.notOk(r.pubs[0].closed, 'the session goes on');
  r.sw.reset();
});
