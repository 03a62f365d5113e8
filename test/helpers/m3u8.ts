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
