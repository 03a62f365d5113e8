import { LiveWindow, type LivePart, type LiveWindowOptions, type SegmentFacts } from '../../src/store/live-window.js';

export interface FakeStream {
  window: LiveWindow;
  /** Adds the next part; every `partsPerSegment` parts a segment closes and a new one starts. Returns its (msn, index). */
  addPart(opts?: { durationMs?: number; independent?: boolean; bytes?: number }): { msn: number; index: number };
  /** Adds n parts. */
  addParts(n: number): void;
  /** What the last addPart gave the window (the archive writer gets the same). */
  last?: { part: LivePart; facts: SegmentFacts };
  clock: { now: number };
}

/**
 * A live window fed with synthetic parts on a fake clock: the packager and delivery tests
 * drive time and content exactly, without the native addon.
 */
export function fakeStream(o: Partial<LiveWindowOptions> & { partsPerSegment?: number; partMs?: number; firstMsn?: number; startPdt?: number } = {}): FakeStream {
  const clock = { now: o.startPdt ?? Date.UTC(2026, 10, 25, 12, 0, 0) };
  const window = new LiveWindow({ windowMs: o.windowMs ?? 20_000, minSegments: o.minSegments ?? 6,
    retainAfterRemovalMs: o.retainAfterRemovalMs ?? 30_000, now: () => clock.now, hotMs: o.hotMs, archived: o.archived });
  const perSeg = o.partsPerSegment ?? 10;
  const partMs = o.partMs ?? 200;
  let msn = (o.firstMsn ?? 1) - 1;
  let index = perSeg - 1;
  let mediaMs = 0;
  window.addInit(1, Buffer.from('init'));
  const addPart: FakeStream['addPart'] = (p = {}) => {
    index++;
    if (index === perSeg) { index = 0; msn++; }
    const durationMs = p.durationMs ?? partMs;
    const data = Buffer.alloc(p.bytes ?? 1000, (msn * 31 + index) & 0xff);
    const part = { msn, index, durationMs, independent: p.independent ?? index === 0, data };
    const facts = { initId: 1, discontinuity: false, programDateTimeMs: clock.now, startMs: mediaMs };
    window.addPart(part, facts);
    // As the cutter does (CmafPart.segmentEnd): the segment's last part closes it at once.
    if (index === perSeg - 1) window.endSegment(false);
    stream.last = { part, facts };
    mediaMs += durationMs;
    clock.now += durationMs;
    return { msn, index };
  };
  const stream: FakeStream = { window, clock, addPart, addParts: (n) => { for (let i = 0; i < n; i++) addPart(); } };
  return stream;
}
