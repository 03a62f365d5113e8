import t from 'tap';
import { parseStreamId } from '../../../../src/ingest/srt/stream-id.js';
import { EsToAccessUnits, avcConfig, splitAdts, splitAnnexB } from '../../../../src/ingest/codecs/elementary-streams.js';
import { parseAvcConfig } from '../../../../src/ingest/codecs/sps.js';
import type { AccessUnit, TrackInfo } from '../../../../src/media/types.js';

// A real 640x360 High-profile SPS and PPS (x264), as ffmpeg's MPEG-TS carries them in band.
const SPS = Buffer.from('6764001eacd940a02ff9610000030001000003003c8f162d96', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const start4 = Buffer.from([0, 0, 0, 1]), start3 = Buffer.from([0, 0, 1]);
const AUD = Buffer.from([0x09, 0xf0]);
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
const P = Buffer.from([0x41, 0x9a, 0x02, 0x03]);

/** An ADTS frame: AAC-LC, 48 kHz (index 3), stereo, payload bytes. */
function adts(payload: Buffer): Buffer {
  const len = payload.length + 7;
  const h = Buffer.from([0xff, 0xf1, (1 << 6) | (3 << 2) | 0, (2 << 6) | (len >> 11), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc]);
  return Buffer.concat([h, payload]);
}

t.test('streamid forms: access control, publish:, live/, bare key; refusals say why', async (t) => {
  for (const sid of ['#!::r=live/abc-123,m=publish', '#!::m=publish,r=abc-123', 'publish:live/abc-123', 'live/abc-123', 'abc-123', ' abc-123 ', '%23!%3A%3Ar%3Dlive%2Fabc-123%2Cm%3Dpublish']) {
    t.same(parseStreamId(sid), { ok: true, streamKey: 'abc-123' }, sid);
  }
  t.match(parseStreamId('#!::r=live/abc,m=request'), { ok: false, badMode: true, reason: /only takes publishers/ });
  t.match(parseStreamId('read:live/abc'), { ok: false, badMode: true });
  t.match(parseStreamId(''), { ok: false, reason: /no streamid/ });
  t.match(parseStreamId('#!::m=publish'), { ok: false, reason: /does not name a stream key/ });
  t.match(parseStreamId('live/a b'), { ok: false });
});

t.test('Annex B: 3- and 4-byte start codes; an avcC ingest parses back', async (t) => {
  const nals = splitAnnexB(Buffer.concat([start4, AUD, start4, SPS, start3, PPS, start3, IDR]));
  t.same(nals.map((n) => n.toString('hex')), [AUD, SPS, PPS, IDR].map((n) => n.toString('hex')));
  const cfg = parseAvcConfig(avcConfig(SPS, PPS));
  t.match(cfg, { profileIdc: 0x64, levelIdc: 0x1e, nalLengthSize: 4 });
  t.same([cfg.sps[0].toString('hex'), cfg.pps[0].toString('hex')], [SPS.toString('hex'), PPS.toString('hex')]);
});

t.test('ADTS: several frames in one PES packet; a non-ADTS payload is an error', async (t) => {
  const frames = splitAdts(Buffer.concat([adts(Buffer.alloc(10, 1)), adts(Buffer.alloc(20, 2))]));
  t.same(frames.map((f) => [f.objectType, f.freqIndex, f.channelConfig, f.raw.length]), [[2, 3, 2, 10], [2, 3, 2, 20]]);
  t.throws(() => splitAdts(Buffer.alloc(12, 0x21)), /without ADTS/);
  t.throws(() => splitAdts(adts(Buffer.alloc(10)).subarray(0, 12)), /truncated/);
});

t.test('tracks declared once both streams have their configuration; frames from the first keyframe, AVCC, ms timestamps; a new SPS declares again', async (t) => {
  const declared: TrackInfo[][] = [];
  const written: AccessUnit[] = [];
  const es = new EsToAccessUnits({ expect: { video: true, audio: true }, setTracks: (x) => declared.push(x), write: (au) => written.push(au) });
  es.push({ kind: 'audio', pts: 90_000, dts: 90_000, keyframe: true, data: adts(Buffer.alloc(8, 1)) });
  es.push({ kind: 'video', pts: 93_000, dts: 90_000, keyframe: false, data: Buffer.concat([start4, P]) });
  t.same(declared, [], 'nothing before the video configuration');
  es.push({ kind: 'video', pts: 96_000, dts: 93_000, keyframe: true, data: Buffer.concat([start4, AUD, start4, SPS, start4, PPS, start4, IDR]) });
  t.equal(declared.length, 1, 'declared at the first keyframe with SPS and PPS');
  t.match(declared[0], [
    { kind: 'video', id: 0, codec: 'h264', timescale: 1000, width: 640, height: 360 },
    { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, sampleRate: 48000, channels: 2 },
  ]);
  t.same(declared[0][1].codecConfig, Buffer.from([0x11, 0x90]), 'AudioSpecificConfig from the ADTS header');
  t.same(written.map((a) => [a.trackId, a.dts, a.pts, a.keyframe]), [[0, 1033, 1067, true]], 'the keyframe, in ms');
  t.same(written[0].data, Buffer.concat([Buffer.from([0, 0, 0, IDR.length]), IDR]), 'AVCC without AUD, SPS, PPS');
  es.push({ kind: 'audio', pts: 93_600, dts: 93_600, keyframe: true, data: Buffer.concat([adts(Buffer.alloc(8, 2)), adts(Buffer.alloc(8, 3))]) });
  t.same(written.slice(1).map((a) => [a.trackId, a.dts]), [[1, 1040], [1, 1061]], 'two AAC frames of one packet, 1024 samples apart');
  const sps2 = Buffer.from(SPS);
  sps2[3] = 0x1f; // another level: a new configuration
  es.push({ kind: 'video', pts: 99_000, dts: 96_000, keyframe: true, data: Buffer.concat([start3, sps2, start3, PPS, start3, IDR]) });
  t.equal(declared.length, 2, 'a new SPS declares the tracks again');
  t.equal(parseAvcConfig(declared[1][0].codecConfig).levelIdc, 0x1f);
});

t.test('an audio-only publisher: declared on its first frame', async (t) => {
  const declared: TrackInfo[][] = [];
  const written: AccessUnit[] = [];
  const es = new EsToAccessUnits({ expect: { video: false, audio: true }, setTracks: (x) => declared.push(x), write: (au) => written.push(au) });
  es.push({ kind: 'audio', pts: 0, dts: null, keyframe: true, data: adts(Buffer.alloc(8, 1)) });
  t.match(declared, [[{ kind: 'audio' }]]);
  t.equal(written.length, 1);
});
