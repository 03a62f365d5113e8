import { formatSegmentLine, parseBoundary, type ArchivedSegment } from './archive-layout.js';
import type { ArchiveReader } from './archive-reader.js';

/**
 * After a crash (kill -9, power loss of the process), the segment that was being written has
 * journaled parts in parts.log but no line in segments.log. Recovery indexes it with the parts
 * the journal vouches for and cuts the file there (a part half-written when the process died
 * is dropped), so the archive holds everything up to the last completed part.
 * Returns the recovered segment, if there was one.
 */
export async function recoverOpenSegment(reader: ArchiveReader): Promise<ArchivedSegment | undefined> {
  const hours = await reader.hours();
  const hour = hours[hours.length - 1];
  if (!hour) return undefined;
  const files = reader.files;
  const journal = await files.readText(reader.paths.partsLog(hour));
  if (journal === undefined) return undefined;
  const lines = journal.split('\n');
  let open: string[] | undefined;
  let openAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].startsWith('O ')) { open = lines[i].split(' '); openAt = i; break; }
  }
  if (!open || open.length !== 6) return undefined;
  const msn = Number(open[1]);
  if ((await reader.hour(hour)).some((s) => s.msn === msn)) return undefined; // closed cleanly
  let bytes = 0, durationMs = 0;
  for (let i = openAt + 1; i < lines.length; i++) {
    const f = lines[i].split(' ');
    if (f.length !== 5 || f[0] !== 'P' || Number(f[1]) !== msn) continue; // a torn last line is ignored
    bytes += Number(f[3]);
    durationMs += Number(f[4]);
  }
  const path = reader.paths.segment(hour, msn);
  const size = await files.size(path) ?? -1;
  if (bytes === 0 || size < bytes) {
    // Nothing whole was journaled (or the bytes are not all there): nothing to keep.
    await files.remove(path);
    return undefined;
  }
  if (size > bytes) await files.truncate(path, bytes);
  const seg: ArchivedSegment = {
    msn, initId: Number(open[2]), ...parseBoundary(Number(open[3])), programDateTimeMs: Number(open[4]),
    startMs: Number(open[5]), durationMs, bytes, hour,
  };
  await files.appendText(reader.paths.segmentsLog(hour), formatSegmentLine(seg));
  return seg;
}
