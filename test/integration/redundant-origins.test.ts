import t from 'tap';
import { startOrigin } from '../helpers/origin.js';
import { startTeePublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { gridMsn } from '../../src/media/grid-numbering.js';

/**
 * Issue 19, point 3: one encoder publishing to two origins (ffmpeg's tee muxer, as OBS does with
 * two outputs) that do not talk to each other. Both number the same segments and parts the same
 * (the cutter's grid on the publisher's clock, named from the wall clock: gridMsn), list the same
 * durations, and serve the same bytes for each, so a CDN may take any request from either.
 */

const KEY = 'redundant-key-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Listing { segments: Map<number, { extinf: number; pdtMs: number; parts: string[] }>; map: string }

function listing(text: string): Listing {
  const { manifest } = parseM3u8(text);
  const segments = new Map<number, { extinf: number; pdtMs: number; parts: string[] }>();
  (manifest.segments as { duration?: number; dateTimeObject?: Date; parts?: { uri: string; duration: number }[] }[]).forEach((s, i) => {
    if (!s.duration) return;
    segments.set(manifest.mediaSequence + i, { extinf: s.duration, pdtMs: s.dateTimeObject?.getTime() ?? NaN, parts: (s.parts ?? []).map((p) => `${p.uri} ${p.duration}`) });
  });
  return { segments, map: (manifest.segments as { map?: { uri: string } }[])[0]?.map?.uri ?? '' };
}

t.test('gridMsn: the cell of the segment start, named from an epoch rounded up to ~10 s', async (t) => {
  const epoch = 1_796_000_000_000;
  t.equal(gridMsn(epoch, 0, 2000), epoch / 2000, 'an offset on the quantum');
  t.equal(gridMsn(epoch - 3, 6000, 2000), epoch / 2000 + 3, 'milliseconds below it round up to it');
  t.equal(gridMsn(epoch + 3, 6000, 2000), epoch / 2000 + 5 + 3, 'milliseconds above it: the next quantum (10 s = 5 cells)');
  t.equal(gridMsn(epoch, 6999, 6000), Math.ceil(epoch / 12_000) * 2 + 1, '6-s targets: a quantum of 12 s');
  t.ok(gridMsn(Date.now(), 0, 2000) >= Math.floor(Date.now() / 2000), 'never below the wall clock\'s segment count');
});

for (const mode of ['ultra-low', 'normal'] as const) {
  t.test(`${mode}: one encoder to two independent origins: the same MSNs, parts, durations and bytes`, async (t) => {
    const channels = [{ id: 'twin', streamKey: KEY, latencyMode: mode }];
    const [a, b] = await Promise.all([startOrigin({ channels }), startOrigin({ channels })]);
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const pub = startTeePublisher([a.rtmp(KEY), b.rtmp(KEY)], { width: 320, height: 180, fps: 30, gop: 30, videoBitrate: '300k' });
    t.teardown(() => stopPublisher(pub));
    await sleep(mode === 'normal' ? 16_000 : 7000);
    const [la, lb] = await Promise.all([a, b].map(async (o) => listing(await (await fetch(`${o.http}/live/twin/source.m3u8`)).text())));
    const common = [...la.segments.keys()].filter((msn) => lb.segments.has(msn));
    t.comment(`A lists ${[...la.segments.keys()].join(' ')}; B lists ${[...lb.segments.keys()].join(' ')}`);
    t.ok(common.length >= 2, `${common.length} segments listed by both under the same MSNs`);
    t.same(common.map((m) => lb.segments.get(m)!.extinf), common.map((m) => la.segments.get(m)!.extinf), 'the same EXTINF for each');
    t.same(common.map((m) => lb.segments.get(m)!.parts), common.map((m) => la.segments.get(m)!.parts), 'the same parts (URIs, durations) for each');
    const pdtDiff = Math.max(...common.map((m) => Math.abs(lb.segments.get(m)!.pdtMs - la.segments.get(m)!.pdtMs)));
    t.ok(pdtDiff < 100, `PROGRAM-DATE-TIMEs within ${pdtDiff} ms (each origin stamps its own arrival time)`);
    const bytes = await Promise.all(common.map(async (m) => Promise.all([a, b].map(async (o) =>
      Buffer.from(await (await fetch(`${o.http}/live/twin/source/${m}.m4s`)).arrayBuffer())))));
    t.same(bytes.filter(([x, y]) => !x.equals(y)).length, 0, 'every common segment is byte for byte the same on both');
    t.comment(`init: A ${la.map}, B ${lb.map}`);
    await stopPublisher(pub);
  });
}
