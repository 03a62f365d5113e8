/**
 * How an origin's copy of a shared log (an hour's segments.log, a channel's sessions.log) is
 * kept in the object store: in chunks of LOG_CHUNK_BYTES of the local file, `<log>@<origin>~<n>`.
 * A full chunk never changes again, so an append uploads only the last chunk (at most 8 KiB)
 * instead of the whole log (up to 100 KB for an hour of 2-s segments, which cost 7 % of the
 * media uploaded; BENCHMARKS §12). Reading concatenates one origin's chunks in order.
 */
export const LOG_CHUNK_BYTES = 8192;

export function chunkKey(logKey: string, writer: string, index: number): string {
  return `${logKey}@${writer}~${index}`;
}

/** The origin and chunk number of an object named `<logName>@<origin>~<n>`; undefined for any other name. */
export function parseChunkName(objectName: string, logName: string): { writer: string; index: number } | undefined {
  if (!objectName.startsWith(`${logName}@`)) return undefined;
  const m = /^([A-Za-z0-9._-]+)~(\d{1,9})$/.exec(objectName.slice(logName.length + 1));
  return m ? { writer: m[1], index: Number(m[2]) } : undefined;
}

/** Each origin's chunks of one log, in order: the listing's objects grouped by writer. */
export function copiesOf(objects: { name: string; size: number }[], logName: string): Map<string, { name: string; size: number }[]> {
  const byWriter = new Map<string, { name: string; size: number; index: number }[]>();
  for (const o of objects) {
    const c = parseChunkName(o.name, logName);
    if (!c) continue;
    let list = byWriter.get(c.writer);
    if (!list) byWriter.set(c.writer, (list = []));
    list.push({ ...o, index: c.index });
  }
  return new Map([...byWriter].map(([w, list]) => [w, list.sort((a, b) => a.index - b.index).map(({ name, size }) => ({ name, size }))]));
}
