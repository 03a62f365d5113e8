/**
 * The default slate picture: "STREAM WILL RESUME SHORTLY" in large white capitals on a dark
 * background, as a raw I420 frame (the `picture` of encodeSlate's request). Drawn from a tiny
 * built-in 5x7 bitmap font holding only the glyphs the text needs, each font pixel a square of
 * `scale` frame pixels, the two lines centred.
 */

/** The card's text, one entry per line. */
export const SLATE_CARD_LINES = ['STREAM WILL', 'RESUME SHORTLY'] as const;

/** Luma of the background (dark grey) and of the letters (white), limited range; chroma is neutral (128). */
export const SLATE_CARD_BACKGROUND_Y = 32;
export const SLATE_CARD_TEXT_Y = 235;

const GLYPH_W = 5, GLYPH_H = 7;
/** Font pixels between letters, and between the two lines. */
const LETTER_GAP = 1, LINE_GAP = 4;
/** The text block takes at most this share of the frame's width and height. */
const MAX_WIDTH_SHARE = 0.8, MAX_HEIGHT_SHARE = 0.4;

/** 5x7 glyphs, rows top to bottom, '#' = ink. */
const FONT: Record<string, readonly string[]> = {
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};

/** Width of a line in font pixels. */
const lineUnits = (line: string) => line.length * (GLYPH_W + LETTER_GAP) - LETTER_GAP;

/** Where the text goes in a width x height frame: font pixel size and the text block's box. */
export interface SlateCardLayout {
  /** Frame pixels per font pixel; 0 when the frame is too small for the text (then the card is plain). */
  scale: number;
  /** The text block (both lines), frame pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export function slateCardLayout(width: number, height: number): SlateCardLayout {
  const blockUnitsW = Math.max(...SLATE_CARD_LINES.map(lineUnits));
  const blockUnitsH = SLATE_CARD_LINES.length * (GLYPH_H + LINE_GAP) - LINE_GAP;
  const scale = Math.floor(Math.min((width * MAX_WIDTH_SHARE) / blockUnitsW, (height * MAX_HEIGHT_SHARE) / blockUnitsH));
  if (scale < 1) return { scale: 0, x: 0, y: 0, width: 0, height: 0 };
  const w = blockUnitsW * scale, h = blockUnitsH * scale;
  return { scale, x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * The card as I420 (Y plane, then U, then V; width*height*3/2 bytes). Width and height even,
 * 16..4096, as encodeSlate takes them.
 */
export function slateCard(width: number, height: number): Buffer {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 4096 || v % 2 !== 0) {
      throw Object.assign(new RangeError(`slate card ${name} must be an even integer within 16..4096 (got ${v})`), { code: 'ERR_SLATE_CONFIG' });
    }
  }
  const lumaSize = width * height;
  const frame = Buffer.alloc(lumaSize + lumaSize / 2, 128);
  frame.fill(SLATE_CARD_BACKGROUND_Y, 0, lumaSize);
  const { scale, y: top } = slateCardLayout(width, height);
  if (scale === 0) return frame;
  SLATE_CARD_LINES.forEach((line, li) => {
    const lineW = lineUnits(line) * scale;
    const x0 = Math.floor((width - lineW) / 2);
    const y0 = top + li * (GLYPH_H + LINE_GAP) * scale;
    [...line].forEach((ch, ci) => {
      const glyph = FONT[ch];
      const gx = x0 + ci * (GLYPH_W + LETTER_GAP) * scale;
      for (let r = 0; r < GLYPH_H; r++) {
        for (let c = 0; c < GLYPH_W; c++) {
          if (glyph[r][c] !== '#') continue;
          for (let dy = 0; dy < scale; dy++) {
            const row = (y0 + r * scale + dy) * width + gx + c * scale;
            frame.fill(SLATE_CARD_TEXT_Y, row, row + scale);
          }
        }
      }
    });
  });
  return frame;
}
