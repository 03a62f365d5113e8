import t from 'tap';
import { AUDIO_TRACK_ID, parseAudioTag, parseVideoTag, VIDEO_TRACK_ID } from '../../../src/ingest/rtmp/flv.js';
import { RtmpProtocolError } from '../../../src/ingest/rtmp/errors.js';
import { avcc, h264Fixture } from './h264-fixtures.js';

const fx = h264Fixture({ width: 640, height: 360, profile: 'high', level: '3.0' });
const frame = avcc(fx.frameNals);

function videoTag(frameType: number, codecId: number, packetType: number, cto: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = (frameType << 4) | codecId;
  h[1] = packetType;
  h.writeIntBE(cto, 2, 3);
  return Buffer.concat([h, body]);
}

t.test('AVC sequence header → avcC with SPS facts', async (t) => {
  const r = parseVideoTag(videoTag(1, 7, 0, 0, fx.avcC), 0);
  t.equal(r.kind, 'config');
  if (r.kind !== 'config') return;
  t.ok(r.codecConfig.equals(fx.avcC));
  t.equal(r.sps.width, 640);
  t.equal(r.sps.height, 360);
  t.equal(r.sps.profileIdc, 100);
  t.equal(r.sps.levelIdc, 30);
});

const frames = [
  { name: 'keyframe, cto 0', frameType: 1, cto: 0, dts: 1000, keyframe: true, pts: 1000 },
  { name: 'inter frame, cto +66', frameType: 2, cto: 66, dts: 1033, keyframe: false, pts: 1099 },
  { name: 'negative cto (signed 24-bit)', frameType: 2, cto: -33, dts: 2000, keyframe: false, pts: 1967 },
  { name: 'largest positive cto', frameType: 2, cto: 0x7fffff, dts: 0, keyframe: false, pts: 0x7fffff },
  { name: 'disposable inter frame', frameType: 3, cto: 0, dts: 5, keyframe: false, pts: 5 },
];
for (const f of frames) {
  t.test(`AVC NALU tag: ${f.name}`, async (t) => {
    const r = parseVideoTag(videoTag(f.frameType, 7, 1, f.cto, frame), f.dts);
    t.equal(r.kind, 'frame');
    if (r.kind !== 'frame') return;
    t.same({ trackId: r.au.trackId, dts: r.au.dts, pts: r.au.pts, keyframe: r.au.keyframe }, { trackId: VIDEO_TRACK_ID, dts: f.dts, pts: f.pts, keyframe: f.keyframe });
    t.ok(r.au.data.equals(frame), 'data is the AVCC NAL units');
  });
}

const skips = [
  { name: 'end of sequence', tag: videoTag(1, 7, 2, 0, Buffer.alloc(0)) },
  { name: 'empty tag', tag: Buffer.alloc(0) },
  { name: 'video info/command frame', tag: Buffer.from([0x57, 0]) },
];
for (const s of skips) {
  t.test(`video skip: ${s.name}`, async (t) => {
    t.equal(parseVideoTag(s.tag, 0).kind, 'skip');
  });
}

const unsupportedVideo = [
  { name: 'HEVC (codec id 12)', tag: Buffer.from([0x1c, 0, 0, 0, 0]), reason: 'unsupported video codec id 12 (HEVC); this origin accepts H.264 + AAC' },
  { name: 'Sorenson H.263', tag: Buffer.from([0x12, 0]), reason: 'unsupported video codec id 2 (Sorenson H.263); this origin accepts H.264 + AAC' },
  { name: 'VP6', tag: Buffer.from([0x14, 0]), reason: 'unsupported video codec id 4 (On2 VP6); this origin accepts H.264 + AAC' },
  { name: 'enhanced RTMP HEVC', tag: Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31]), reason: "unsupported video codec FourCC 'hvc1' (HEVC); this origin accepts H.264 + AAC" },
  { name: 'enhanced RTMP AV1', tag: Buffer.from([0x90, 0x61, 0x76, 0x30, 0x31]), reason: "unsupported video codec FourCC 'av01' (AV1); this origin accepts H.264 + AAC" },
];
for (const u of unsupportedVideo) {
  t.test(`video refused: ${u.name}`, async (t) => {
    t.same(parseVideoTag(u.tag, 0), { kind: 'unsupported', reason: u.reason });
  });
}

t.test('malformed AVC sequence header throws a codec error', async (t) => {
  t.throws(() => parseVideoTag(videoTag(1, 7, 0, 0, Buffer.from([1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 99])), 0), RtmpProtocolError);
});

const ASC = Buffer.from([0x11, 0x90]);
t.test('AAC sequence header → AudioSpecificConfig facts', async (t) => {
  const r = parseAudioTag(Buffer.concat([Buffer.from([0xaf, 0]), ASC]), 0);
  t.equal(r.kind, 'config');
  if (r.kind !== 'config') return;
  t.ok(r.codecConfig.equals(ASC));
  t.same(r.aac, { audioObjectType: 2, sampleRate: 48000, channels: 2 });
});

t.test('AAC raw frame → AccessUnit', async (t) => {
  const raw = Buffer.from([0x21, 0x10, 0x04, 0x60, 0x8c]);
  const r = parseAudioTag(Buffer.concat([Buffer.from([0xaf, 1]), raw]), 4321);
  t.equal(r.kind, 'frame');
  if (r.kind !== 'frame') return;
  t.same({ trackId: r.au.trackId, dts: r.au.dts, pts: r.au.pts, keyframe: r.au.keyframe }, { trackId: AUDIO_TRACK_ID, dts: 4321, pts: 4321, keyframe: true });
  t.ok(r.au.data.equals(raw));
});

const unsupportedAudio = [
  { name: 'MP3', tag: Buffer.from([0x2f, 0xff]), reason: 'unsupported audio format 2 (MP3); this origin accepts H.264 + AAC' },
  { name: 'Speex', tag: Buffer.from([0xb6, 0]), reason: 'unsupported audio format 11 (Speex); this origin accepts H.264 + AAC' },
  { name: 'Nellymoser', tag: Buffer.from([0x6e, 0]), reason: 'unsupported audio format 6 (Nellymoser); this origin accepts H.264 + AAC' },
  { name: 'G.711 A-law', tag: Buffer.from([0x72, 0]), reason: 'unsupported audio format 7 (G.711 A-law); this origin accepts H.264 + AAC' },
  { name: 'enhanced RTMP Opus', tag: Buffer.from([0x90, 0x4f, 0x70, 0x75, 0x73]), reason: "unsupported audio codec FourCC 'Opus' (Opus); this origin accepts H.264 + AAC" },
];
for (const u of unsupportedAudio) {
  t.test(`audio refused: ${u.name}`, async (t) => {
    t.same(parseAudioTag(u.tag, 0), { kind: 'unsupported', reason: u.reason });
  });
}
