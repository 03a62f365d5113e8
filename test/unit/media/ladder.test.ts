import t from 'tap';
import { fitLadder, resolveLadder, RUNG_PRESETS } from '../../../src/media/transcode/ladder.js';
import { configSchema } from '../../../src/config/schema.js';
import type { VideoTrackInfo } from '../../../src/media/types.js';

const video = (width: number, height: number): VideoTrackInfo =>
  ({ kind: 'video', id: 0, codec: 'h264', timescale: 1000, codecConfig: Buffer.alloc(0), width, height, frameRate: 30 });

t.test('resolveLadder: passthrough, named ladders, slash lists, custom rungs', async (t) => {
  t.equal(resolveLadder('passthrough'), null, 'passthrough is no ladder');
  t.same(resolveLadder('hd')!.rungs.map((r) => r.name), ['1080p', '720p', '480p', '360p'], 'hd');
  t.same(resolveLadder('360p/720p')!.rungs.map((r) => r.name), ['720p', '360p'], 'a slash list, sorted top first');
  t.equal(resolveLadder('sd')!.keepSource, true, 'the source stays the top rung by default');
  const custom = resolveLadder({ rungs: ['480p', { name: 'tiny', height: 144, videoBitrateKbps: 150 }], keepSource: false })!;
  t.same(custom.rungs.map((r) => r.name), ['480p', 'tiny']);
  t.equal(custom.keepSource, false);
  t.same(resolveLadder('mine', { mine: ['240p'] })!.rungs, [RUNG_PRESETS['240p']], 'a ladder named in the config');
  t.throws(() => resolveLadder('4k'), /unknown rung or ladder "4k"/, 'an unknown name says which');
  t.throws(() => resolveLadder('720p/720p'), /used twice/, 'a rung twice');
  t.throws(() => resolveLadder({ rungs: [{ name: 'source', height: 240, videoBitrateKbps: 300 }] }), /source/, '"source" is taken');
});

t.test('fitLadder: no upscaling, width from the aspect ratio, even sizes', async (t) => {
  const hd = resolveLadder('hd')!;
  t.same(fitLadder(hd, video(1920, 1080)).map((r) => `${r.name} ${r.width}x${r.height} ${r.videoBitrate}`),
    ['720p 1280x720 2800000', '480p 854x480 1400000', '360p 640x360 800000'], '1080p source: the source is the 1080p rung');
  t.same(fitLadder(hd, video(1280, 720)).map((r) => r.name), ['480p', '360p'], '720p source: nothing at or above it');
  t.same(fitLadder({ ...hd, keepSource: false }, video(1280, 720)).map((r) => r.name), ['720p', '480p', '360p'],
    'without the source, a rung of the same height is made');
  t.same(fitLadder(hd, video(1080, 1920)).map((r) => `${r.name} ${r.width}x${r.height}`), ['720p 720x1280', '480p 480x854', '360p 360x640'],
    'portrait source: the rung height is the short side, the long one follows the aspect ratio');
  t.same(fitLadder(hd, video(640, 360)), [], 'a 360p source gets no rung (passthrough)');
  t.same(fitLadder({ rungs: [{ name: 'w', height: 240, width: 400, videoBitrateKbps: 300 }], keepSource: true }, video(1280, 720))
    .map((r) => [r.width, r.profile, r.maxFrameRate]), [[400, 'high', 0]], 'an explicit width is kept; defaults high profile, source rate');
});

t.test('config: a channel transcode value is checked at start with a message naming it', async (t) => {
  const parse = (transcode: unknown, extra: Record<string, unknown> = {}) =>
    configSchema.safeParse({ channels: [{ id: 'a', streamKey: 'key-12345', transcode }], ...extra });
  t.ok(parse('sd').success, 'a ladder name');
  t.ok(parse('720p/360p').success, 'a slash list');
  t.ok(parse('team', { transcode: { ladders: { team: ['480p', { name: 'low', height: 200, videoBitrateKbps: 250 }] } } }).success,
    'a ladder from transcode.ladders');
  const bad = parse('720p/999p');
  t.notOk(bad.success);
  t.match(JSON.stringify(bad.error?.issues), /channels.*transcode.*unknown rung or ladder \\"999p\\"/, 'names the unknown rung');
  t.notOk(parse({ rungs: [{ name: 'index', height: 240, videoBitrateKbps: 300 }] }).success, 'a reserved rendition name');
  t.notOk(parse({ rungs: [{ name: 'odd', height: 241, videoBitrateKbps: 300 }] }).success, 'an odd height');
  t.notOk(parse('sd', { transcode: { preset: 'placebo' } }).success, 'a preset too slow for live');
  t.equal(configSchema.parse({}).transcode.preset, 'veryfast', 'default preset');
});
