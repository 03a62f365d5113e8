import type { PipelineFactory } from '../../src/media/channel.js';
import type { CmafChunk } from '../../src/media/types.js';

/**
 * A stand-in for the native pipeline that a test or a benchmark drives by hand: the channel,
 * packager and delivery run exactly as in production, and the caller decides when each part
 * appears and what it holds. Parts follow the cutter's numbering: a new segment every
 * `perSegment` parts, MSNs from the firstMsn the channel asked for.
 */
export function manualPipeline(o: { partMs: number; perSegment: number; fill?: (msn: number, index: number) => string }) {
  let emit: ((c: CmafChunk) => void) | undefined;
  let msn = 0, index = o.perSegment - 1, startMs = 0, firstMsn = 1;
  const fill = o.fill ?? ((m, i) => `${m}.${i}|`);
  const factory: PipelineFactory = (opts, onChunk) => {
    emit = onChunk;
    firstMsn = opts.firstMsn;
    msn = firstMsn - 1; index = o.perSegment - 1; startMs = 0;
    return { write: () => true, close: async () => {} };
  };
  const pipe = {
    factory,
    get firstMsn() { return firstMsn; },
    /** The (msn, index) the next part() call will produce. */
    next() { return index + 1 === o.perSegment ? { msn: msn + 1, index: 0 } : { msn, index: index + 1 }; },
    init(data: Buffer) { emit!({ kind: 'init', data }); },
    /** Emits the next part of `bytes` bytes (a label, then filler: no two parts alike). */
    part(bytes = 100) {
      ({ msn, index } = pipe.next());
      const data = Buffer.alloc(bytes, fill(msn, index));
      emit!({ kind: 'part', msn, partIndex: index, independent: index === 0, segmentStart: index === 0, segmentEnd: index === o.perSegment - 1, startMs, durationMs: o.partMs, data });
      startMs += o.partMs;
      return { msn, index, data };
    },
  };
  return pipe;
}
