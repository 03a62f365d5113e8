/**
 * The stall monitor the player page and the e2e players run, driven by hand: a fake <video>,
 * a manual clock and manual sampling ticks. A freeze still going on when the watch ends counts.
 */
import t from 'tap';
import { installStallMonitor, stallMonitorScript, type StallWatchedMedia } from '../../../src/delivery/stall-monitor.js';

class FakeVideo implements StallWatchedMedia {
  currentTime = 0;
  paused = false;
  ended = false;
  seeking = false;
  playbackRate = 1;
  private readonly listeners = new Map<string, (() => void)[]>();
  addEventListener(type: string, fn: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  emit(type: 'waiting' | 'playing'): void {
    for (const fn of this.listeners.get(type) ?? []) fn();
  }
}

/** A video, the monitor on it, and `play(ms)` / `freeze(ms)` that move time in 100 ms ticks. */
function rig() {
  const video = new FakeVideo();
  let clock = 0;
  let tick: () => void = () => undefined;
  const monitor = installStallMonitor(video, 1000, () => clock, (fn) => { tick = fn; });
  const run = (ms: number, advance: boolean) => {
    for (let i = 0; i < ms / 100; i++) {
      clock += 100;
      if (advance) video.currentTime += 0.1;
      tick();
    }
  };
  return { video, monitor, play: (ms: number) => run(ms, true), freeze: (ms: number) => run(ms, false) };
}

t.test('a waiting followed by playing is one stall of that length; before the first playing nothing counts', async (t) => {
  const { video, monitor, play, freeze } = rig();
  video.emit('waiting');
  freeze(2000);
  t.same(monitor.report(), { stalls: 0, stalledMs: 0, stalled: false }, 'start-up is not a stall');
  video.emit('playing');
  play(1000);
  video.emit('waiting');
  freeze(300);
  video.emit('playing');
  play(1000);
  t.same(monitor.report(), { stalls: 1, stalledMs: 300, stalled: false });
});

t.test('a waiting without its playing when the watch ends counts, with the time it has lasted', async (t) => {
  const { video, monitor, play, freeze } = rig();
  video.emit('playing');
  play(1000);
  video.emit('waiting');
  freeze(700);
  t.same(monitor.report(), { stalls: 1, stalledMs: 700, stalled: true });
  freeze(500);
  t.same(monitor.report(), { stalls: 1, stalledMs: 1200, stalled: true }, 'the same stall, grown');
  video.emit('playing');
  play(500);
  t.same(monitor.report(), { stalls: 1, stalledMs: 1200, stalled: false });
});

t.test('currentTime not advancing for a second, with no event, is a stall from its last advance', async (t) => {
  const { video, monitor, play, freeze } = rig();
  video.emit('playing');
  play(1000);
  freeze(900);
  t.same(monitor.report(), { stalls: 0, stalledMs: 0, stalled: false }, 'under a second: not yet');
  freeze(300);
  t.same(monitor.report(), { stalls: 1, stalledMs: 1200, stalled: true }, 'the picture stuck over the last second');
  play(500);
  t.same(monitor.report(), { stalls: 1, stalledMs: 1200, stalled: false }, 'over once it moves again');
  video.emit('waiting');
  freeze(1500);
  t.same(monitor.report(), { stalls: 2, stalledMs: 2700, stalled: true }, 'a waiting and the stuck picture are one stall, not two');
});

t.test('paused, ended or seeking is not a stall', async (t) => {
  const { video, monitor, play, freeze } = rig();
  video.emit('playing');
  play(500);
  video.paused = true;
  freeze(3000);
  video.paused = false;
  video.emit('playing');
  play(500);
  video.seeking = true;
  video.emit('waiting');
  freeze(2000);
  video.seeking = false;
  video.emit('playing');
  play(500);
  video.ended = true;
  freeze(3000);
  t.same(monitor.report(), { stalls: 0, stalledMs: 0, stalled: false });
});

t.test('the page script defines the same function, standalone', async (t) => {
  const define = new Function(`${stallMonitorScript()}; return installStallMonitor;`) as () => typeof installStallMonitor;
  const video = new FakeVideo();
  let clock = 0;
  const m = define()(video, 1000, () => clock, () => undefined);
  video.emit('playing');
  video.emit('waiting');
  clock = 250;
  t.same(m.report(), { stalls: 1, stalledMs: 250, stalled: true });
});
