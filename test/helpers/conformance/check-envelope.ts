/**
 * The rules every playlist shares, media or multivariant: the first line, attribute-list
 * syntax, one EXT-X-VERSION at most.
 */
import { hasAttributeList, lineAttributes, type PlaylistLine } from './lines.js';
import { violation, type Violation } from './rules.js';

/** PL-03, PL-04 and the VER-01 duplicate check on a playlist's lines. */
export function checkEnvelope(lines: readonly PlaylistLine[], tags: ReadonlyMap<string, PlaylistLine[]>, url: string): Violation[] {
  const out: Violation[] = [];
  const firstLine = lines[0];
  if (firstLine?.text !== '#EXTM3U') {
    out.push(violation('PL-03', url, `the first line is ${JSON.stringify(firstLine?.text ?? '')}, not #EXTM3U`, firstLine));
  }
  for (const line of lines) {
    if (!hasAttributeList(line)) continue;
    for (const e of lineAttributes(line).errors) out.push(violation('PL-04', url, `malformed attribute list: ${e}`, line));
  }
  for (const extra of (tags.get('EXT-X-VERSION') ?? []).slice(1)) {
    out.push(violation('VER-01', url, 'EXT-X-VERSION appears more than once', extra));
  }
  return out;
}
