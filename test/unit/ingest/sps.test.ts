import t from 'tap';
import { parseAvcConfig, parseSps, unescapeRbsp } from '../../../src/ingest/codecs/sps.js';
import { parseAudioSpecificConfig } from '../../../src/ingest/codecs/aac.js';
import { CodecError } from '../../../src/ingest/codecs/errors.js';
import { h264Fixture } from './h264-fixtures.js';

// Real SPS from libx264 via ffmpeg. Sizes that are not multiples of 16 exercise cropping.
const cases = [
  { name: '640x360 High (crop 8 rows)', enc: { width: 640, height: 360, profile: 'high', level: '3.0' }, profileIdc: 100, levelIdc: 30, chroma: 1 },
  { name: '1280x720 Main', enc: { width: 1280, height: 720, profile: 'main', level: '3.1' }, profileIdc: 77, levelIdc: 31, chroma: 1 },
  { name: '1920x1080 High level 4.0', enc: { width: 1920, height: 1080, profile: 'high', level: '4.0' }, profileIdc: 100, levelIdc: 40, chroma: 1 },
  { name: '320x240 Baseline', enc: { width: 320, height: 240, profile: 'baseline', level: '2.1' }, profileIdc: 66, levelIdc: 21, chroma: 1 },
  { name: '426x240 Constrained Baseline (crop 6 columns)', enc: { width: 426, height: 240, profile: 'baseline' }, profileIdc: 66, levelIdc: undefined, chroma: 1 },
  { name: '642x362 High 4:4:4 (crop unit 1)', enc: { width: 642, height: 362, profile: 'high444', pixFmt: 'yuv444p' }, profileIdc: 244, levelIdc: undefined, chroma: 3 },
  { name: '720x576 interlaced (field pairs, frame_mbs_only = 0)', enc: { width: 720, height: 576, profile: 'high', extra: ['-flags', '+ildct+ilme', '-x264-params', 'interlaced=1'] }, profileIdc: 100, levelIdc: undefined, chroma: 1 },
  { name: '1280x720 High 4:2:2', enc: { width: 1280, height: 718, profile: 'high422', pixFmt: 'yuv422p' }, profileIdc: 122, levelIdc: undefined, chroma: 2 },
];

for (const c of cases) {
  t.test(`SPS: ${c.name}`, async (t) => {
    const fx = h264Fixture(c.enc);
    const info = parseSps(fx.sps);
    t.equal(info.width, c.enc.width, 'width');
    t.equal(info.height, c.enc.height, 'height');
    t.equal(info.profileIdc, c.profileIdc, 'profile');
    if (c.levelIdc !== undefined) t.equal(info.levelIdc, c.levelIdc, 'level');
    t.equal(info.chromaFormatIdc, c.chroma, 'chroma format');
    const cfg = parseAvcConfig(fx.avcC);
    t.equal(cfg.nalLengthSize, 4);
    t.equal(cfg.sps.length, 1);
    t.ok(cfg.sps[0].equals(fx.sps));
    t.ok(cfg.pps[0].equals(fx.pps));
  });
}

t.test('emulation prevention bytes are removed', async (t) => {
  t.same([...unescapeRbsp(Buffer.from([1, 0, 0, 3, 1, 0, 0, 3, 0, 3]))], [1, 0, 0, 1, 0, 0, 0, 3]);
});

const badSps: { name: string; bytes: Buffer; match: RegExp }[] = [
  { name: 'too short', bytes: Buffer.from([0x67, 0x64]), match: /SPS too short/ },
  { name: 'not an SPS', bytes: Buffer.from([0x68, 0x64, 0, 0x1e, 0xff]), match: /NAL unit type 8 is not an SPS/ },
  { name: 'truncated', bytes: Buffer.from([0x67, 0x42, 0, 0x1e, 0xff]), match: /SPS truncated/ },
  { name: 'all-zero Exp-Golomb', bytes: Buffer.from([0x67, 0x42, 0, 0x1e, 0, 0, 0, 0, 0, 0]), match: /Exp-Golomb code longer than 32 bits|SPS truncated/ },
];
for (const c of badSps) {
  t.test(`bad SPS: ${c.name}`, async (t) => {
    t.throws(() => parseSps(c.bytes), CodecError);
    try { parseSps(c.bytes); } catch (e) { t.match((e as CodecError).reason, c.match); }
  });
}

const badAvcC: { name: string; bytes: Buffer; match: RegExp }[] = [
  { name: 'too short', bytes: Buffer.from([1, 0x64]), match: /too short/ },
  { name: 'version 0', bytes: Buffer.from([0, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 1]), match: /version 0/ },
  { name: 'SPS length past the end', bytes: Buffer.from([1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 50, 0x67]), match: /truncated in SPS 0/ },
];
for (const c of badAvcC) {
  t.test(`bad avcC: ${c.name}`, async (t) => {
    try {
      parseAvcConfig(c.bytes);
      t.fail('should throw');
    } catch (e) {
      t.ok(e instanceof CodecError);
      t.match((e as CodecError).reason, c.match);
    }
  });
}

const ascCases = [
  { name: 'AAC-LC 48 kHz stereo (ffmpeg)', asc: [0x11, 0x90], aot: 2, rate: 48000, ch: 2 },
  { name: 'AAC-LC 44.1 kHz stereo', asc: [0x12, 0x10], aot: 2, rate: 44100, ch: 2 },
  { name: 'AAC-LC 44.1 kHz mono', asc: [0x12, 0x08], aot: 2, rate: 44100, ch: 1 },
  { name: 'HE-AAC 24 kHz core stereo', asc: [0x2b, 0x10], aot: 5, rate: 24000, ch: 2 },
  { name: 'explicit 24-bit frequency', asc: [0x17, 0x80, 0x01, 0xf4, 0x10], aot: 2, rate: 1000, ch: 2 },
];
for (const c of ascCases) {
  t.test(`AudioSpecificConfig: ${c.name}`, async (t) => {
    const r = parseAudioSpecificConfig(Buffer.from(c.asc));
    t.same(r, { audioObjectType: c.aot, sampleRate: c.rate, channels: c.ch });
  });
}
t.test('AudioSpecificConfig: truncated and reserved index', async (t) => {
  t.throws(() => parseAudioSpecificConfig(Buffer.from([0x11])), CodecError);
  t.throws(() => parseAudioSpecificConfig(Buffer.from([0x16, 0x90])), CodecError); // index 13
});
