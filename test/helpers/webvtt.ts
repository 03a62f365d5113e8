/** A cue of a WebVTT thumbnails track: times in ms, the image URI and its #xywh area. */
export interface ThumbnailCue {
  startMs: number;
  endMs: number;
  uri: string;
  xywh: { x: number; y: number; w: number; h: number };
}

const TIME = /^(\d{2,}):(\d{2}):(\d{2})\.(\d{3})$/;

function ms(s: string): number {
  const m = TIME.exec(s);
  if (!m) throw new Error(`bad WebVTT timestamp ${s}`);
  return ((+m[1] * 60 + +m[2]) * 60 + +m[3]) * 1000 + +m[4];
}

/**
 * Parses a WebVTT thumbnails track strictly, as players read it: the WEBVTT header, NOTE
 * blocks, and cues of `start --> end` plus one `uri#xywh=x,y,w,h` line. Throws on anything else.
 */
export function parseThumbnailVtt(text: string): { cues: ThumbnailCue[]; notes: string[] } {
  const blocks = text.replace(/\r\n/g, '\n').split(/\n\n+/).filter((b) => b.trim() !== '');
  if (!/^WEBVTT( |\n|$)/.test(blocks[0] ?? '')) throw new Error('missing WEBVTT header');
  const cues: ThumbnailCue[] = [], notes: string[] = [];
  for (const block of blocks.slice(1)) {
    if (block.startsWith('NOTE')) { notes.push(block); continue; }
    const lines = block.split('\n');
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0 || timing > 1 || lines.length !== timing + 2) throw new Error(`not a thumbnail cue: ${JSON.stringify(block)}`);
    const [a, b] = lines[timing].split(' --> ');
    const m = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[timing + 1]);
    if (!m) throw new Error(`cue payload without #xywh: ${lines[timing + 1]}`);
    cues.push({ startMs: ms(a), endMs: ms(b.trim()), uri: m[1], xywh: { x: +m[2], y: +m[3], w: +m[4], h: +m[5] } });
  }
  return { cues, notes };
}
