/**
 * Rules of the Multivariant Playlist itself (what each variant must declare) and of the set of
 * Media Playlists it names, which must agree with each other (§6.2.4).
 */
import { attrInteger, attrText, canonicalAttributes } from './attributes.js';
import { checkEnvelope } from './check-envelope.js';
import type { MediaPlaylist } from './media-playlist.js';
import { MEDIA_PLAYLIST_TAGS, type MultivariantPlaylist } from './multivariant-playlist.js';
import { violation, type Violation } from './rules.js';

const VIDEO_CODECS = /\b(avc[13]|hvc1|hev1|dvh[1e]|dva[1v]|av01|vp0?[89]|mp4v)\b/;

/** The envelope, PL-06 and what each variant must declare (MV-05, MV-06). */
export function checkMultivariantPlaylist(mv: MultivariantPlaylist, url: string): Violation[] {
  const out = checkEnvelope(mv.lines, mv.tags, url);
  for (const line of mv.lines) {
    if (line.kind === 'tag' && MEDIA_PLAYLIST_TAGS.has(line.tag)) out.push(violation('PL-06', url, `media playlist tag #${line.tag} in a multivariant playlist`, line));
  }
  for (const p of mv.playlists) {
    if (p.kind !== 'variant' && p.kind !== 'i-frame') continue;
    const bandwidth = attrInteger(p.attrs, 'BANDWIDTH');
    if (bandwidth === undefined || Number.isNaN(bandwidth)) out.push(violation('MV-06', url, `#${p.line.tag} without a decimal-integer BANDWIDTH`, p.line));
    const codecs = attrText(p.attrs, 'CODECS');
    if (codecs === undefined) {
      out.push(violation('MV-05', url, `#${p.line.tag} without CODECS`, p.line));
      continue;
    }
    if (!VIDEO_CODECS.test(codecs) && attrText(p.attrs, 'RESOLUTION') === undefined) continue;
    if (!/^\d+x\d+$/.test(attrText(p.attrs, 'RESOLUTION') ?? '')) out.push(violation('MV-05', url, `video #${p.line.tag} (${codecs}) without a valid RESOLUTION`, p.line));
    if (p.kind === 'variant' && !(Number(attrText(p.attrs, 'FRAME-RATE')) > 0)) out.push(violation('MV-05', url, `video variant (${codecs}) without a valid FRAME-RATE`, p.line));
  }
  return out;
}

/** One Media Playlist of the set, as first loaded. */
export interface RenditionSnapshot {
  url: string;
  playlist: MediaPlaylist;
}

/**
 * TD-04 and SC-07 across the variants and renditions of one multivariant playlist. I-frame
 * playlists are not part of the set (the spec's exception). Image playlists (outside the spec)
 * are held to TD-04 (`images`): a player reading them beside the video (Shaka, Roku) times its
 * live edge and reloads from them, and AAS asks the same of live I-frame playlists; not to
 * SC-07, since a playlist that cannot block or skip must not say CAN-BLOCK-RELOAD or
 * CAN-SKIP-UNTIL.
 */
export function checkRenditionSet(renditions: readonly RenditionSnapshot[], multivariantUrl: string, images: readonly RenditionSnapshot[] = []): Violation[] {
  const out: Violation[] = [];
  const differ = (values: Map<string, string[]>) => [...values].map(([v, urls]) => `${v || '(none)'}: ${urls.join(', ')}`).join('; ');
  const group = (value: (p: MediaPlaylist) => string, set = renditions) => {
    const by = new Map<string, string[]>();
    for (const r of set) by.set(value(r.playlist), [...(by.get(value(r.playlist)) ?? []), r.url]);
    return by;
  };
  const targetDurations = group((p) => String(p.targetDuration ?? ''), [...renditions, ...images]);
  if (targetDurations.size > 1) out.push(violation('TD-04', multivariantUrl, `the media playlists disagree on TARGETDURATION: ${differ(targetDurations)}`));
  const serverControls = group((p) => canonicalAttributes(p.serverControl));
  if (serverControls.size > 1) out.push(violation('SC-07', multivariantUrl, `the media playlists disagree on EXT-X-SERVER-CONTROL: ${differ(serverControls)}`));
  return out;
}
