/**
 * Counts playback stalls as a viewer sees them, in the browser. It runs inside pages (the
 * origin's player page inlines it; the end-to-end tests inject it into their Shaka pages), so
 * it is one self-contained function: its source text is what the page gets, so it may use
 * nothing from this module (ES2015, like the browsers hls.js plays in).
 *
 * A stall is a time when the video should move and does not:
 * - from a `waiting` (once playback has started, not while seeking) to the next `playing`;
 * - or, with no event saying so, while `currentTime` stays put for `freezeMs` or more although
 *   the video is neither paused, ended nor seeking (counted from its last advance).
 * report() counts a stall still going on at that moment, with the time it has lasted so far: a
 * watch that ends inside a freeze (a `waiting` without its `playing`, or a picture stuck over
 * the last second) must not look smooth.
 */

/** What the monitor reads of a media element (a subset of HTMLMediaElement). */
export interface StallWatchedMedia {
  readonly currentTime: number;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly seeking: boolean;
  readonly playbackRate: number;
  addEventListener(type: 'waiting' | 'playing', listener: () => void): void;
}

export interface StallReport {
  /** Stalls since playback first started, the one going on included. */
  stalls: number;
  /** Their total duration so far, ms. */
  stalledMs: number;
  /** A stall is going on now. */
  stalled: boolean;
}

export interface StallMonitor {
  report(): StallReport;
}

export function installStallMonitor(
  video: StallWatchedMedia,
  freezeMs = 1000,
  now: () => number = () => performance.now(),
  every: (fn: () => void, ms: number) => unknown = (fn, ms) => setInterval(fn, ms),
): StallMonitor {
  let started = false;
  let waiting = false;
  /** Start of the stall going on, undefined when none. */
  let since: number | undefined;
  let stalls = 0;
  let stalledMs = 0;
  let lastTime = video.currentTime;
  let lastAdvance = now();
  const open = (at: number) => {
    if (since === undefined) {
      since = at;
      stalls++;
    }
  };
  const close = (at: number) => {
    if (since !== undefined) {
      stalledMs += at - since;
      since = undefined;
    }
  };
  const sample = (at: number) => {
    const t = video.currentTime;
    if (t !== lastTime || !started || video.paused || video.ended || video.seeking) {
      // Moving, or not meant to move: a freeze seen only through currentTime is over. It ended
      // when the media clock started again: as long before this sample as the media played.
      const resumed = t > lastTime ? at - ((t - lastTime) * 1000) / (video.playbackRate || 1) : at;
      lastTime = t;
      lastAdvance = at;
      if (!waiting && since !== undefined) close(Math.max(since, resumed));
    } else if (at - lastAdvance >= freezeMs) {
      open(lastAdvance);
    }
  };
  video.addEventListener('waiting', () => {
    if (!started || video.seeking) return;
    waiting = true;
    open(now());
  });
  video.addEventListener('playing', () => {
    const at = now();
    started = true;
    waiting = false;
    close(at);
    lastTime = video.currentTime;
    lastAdvance = at;
  });
  every(() => sample(now()), 100);
  return {
    report() {
      const at = now();
      sample(at);
      return { stalls, stalledMs: stalledMs + (since !== undefined ? at - since : 0), stalled: since !== undefined };
    },
  };
}

/** The monitor as page script: defines `installStallMonitor` in the page's global scope. */
export function stallMonitorScript(): string {
  return `var installStallMonitor = ${installStallMonitor.toString()};`;
}
