/**
 * The built-in "STREAM WILL RESUME SHORTLY" card: an I420 frame of the right size, white letter
 * pixels in the centre band, the dark background everywhere else, neutral chroma.
 */
import t from 'tap';
import { slateCard, slateCardLayout, SLATE_CARD_BACKGROUND_Y, SLATE_CARD_TEXT_Y } from '../../../../src/media/slate/slate-card.js';

const SIZES: Array<[number, number]> = [[1920, 1080], [1280, 720], [854, 480], [640, 360], [320, 240], [480, 848], [16, 16]];

for (const [w, h] of SIZES) {
  t.test(`${w}x${h}`, async (t) => {
    const card = slateCard(w, h);
    t.equal(card.length, (w * h * 3) / 2, 'width × height × 3/2 bytes');
    const luma = card.subarray(0, w * h);
    t.ok(card.subarray(w * h).every((v) => v === 128), 'chroma neutral (grey scale card)');
    t.ok(luma.every((v) => v === SLATE_CARD_BACKGROUND_Y || v === SLATE_CARD_TEXT_Y), 'only background and text values');
    const lay = slateCardLayout(w, h);
    const textAt = (x: number, y: number) => luma[y * w + x] === SLATE_CARD_TEXT_Y;
    let inBlock = 0, outside = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!textAt(x, y)) continue;
        if (x >= lay.x && x < lay.x + lay.width && y >= lay.y && y < lay.y + lay.height) inBlock++;
        else outside++;
      }
    }
    t.equal(outside, 0, 'no text pixel outside the text block');
    if (w < 100) {
      t.equal(lay.scale, 0, 'too small for the text: a plain card');
      t.equal(inBlock, 0, 'no text pixels');
      return;
    }
    t.ok(lay.scale >= 1, `font scale ${lay.scale}`);
    t.ok(inBlock > lay.width * lay.height * 0.15, `text pixels in the block (${inBlock} of ${lay.width * lay.height})`);
    // Centred, and large: the block spans most of the width (≤ 80 %) and sits in the middle band.
    t.ok(Math.abs(lay.x + lay.width / 2 - w / 2) <= 1 && Math.abs(lay.y + lay.height / 2 - h / 2) <= 1, 'text block centred');
    t.ok(lay.width <= w * 0.8 && (lay.width >= w * 0.6 || lay.height >= h * 0.3), `large: ${lay.width}x${lay.height} in ${w}x${h}`);
    const band = (y0: number, y1: number) => { let n = 0; for (let y = y0; y < y1; y++) for (let x = 0; x < w; x++) if (textAt(x, y)) n++; return n; };
    t.ok(band(Math.floor(h * 0.4), Math.ceil(h * 0.6)) > 0, 'text pixels in the centre band (40–60 % of the height)');
    t.equal(band(0, Math.floor(h * 0.25)) + band(Math.ceil(h * 0.75), h), 0, 'top and bottom quarters are background only');
    // Two lines: a row of background between them.
    const rows = Array.from({ length: lay.height }, (_, i) => band(lay.y + i, lay.y + i + 1));
    t.ok(rows.slice(Math.floor(lay.height * 0.4), Math.ceil(lay.height * 0.6)).some((n) => n === 0), 'a gap between the two lines');
  });
}

t.test('the same size gives the same card; bad sizes throw ERR_SLATE_CONFIG', async (t) => {
  t.ok(slateCard(640, 360).equals(slateCard(640, 360)), 'deterministic');
  for (const [w, h] of [[641, 360], [640, 8], [5000, 360], [640.5, 360], [NaN, 360]]) {
    t.throws(() => slateCard(w, h), { code: 'ERR_SLATE_CONFIG' }, `${w}x${h}`);
  }
});
