import { Parser } from 'm3u8-parser';

/** Parses playlist text with m3u8-parser (what video.js/VHS uses), failing on parser warnings. */
export function parseM3u8(text: string): { manifest: any; warnings: string[] } {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on('warn', (w: { message: string }) => warnings.push(w.message));
  parser.push(text);
  parser.end();
  return { manifest: parser.manifest, warnings };
}

/** Every URI a playlist lists: each URI line and each URI="…" attribute, with the tag naming it. */
export function playlistUris(text: string): { tag: string; uri: string }[] {
  const out: { tag: string; uri: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith('#')) { out.push({ tag: 'URI line', uri: line.trim() }); continue; }
    for (const m of line.matchAll(/\bURI="([^"]*)"/g)) out.push({ tag: line.slice(0, line.indexOf(':')), uri: m[1] });
  }
  return out;
}

/** The `token` query parameter of a URI (relative or absolute), or undefined. */
export function tokenOf(uri: string): string | undefined {
  return new URL(uri, 'http://origin/').searchParams.get('token') ?? undefined;
}
