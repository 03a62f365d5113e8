import t from 'tap';
import { H264FrameAssembler, type H264Frame, type RtpIn } from '../../../../src/ingest/whip/h264-frames.js';
import { RtpClock, Unwrapper } from '../../../../src/ingest/whip/rtp-clock.js';

const NAL = { idr: 0x65, slice: 0x41, sps: 0x67, pps: 0x68 };

/** RTP packets of one picture (RFC 6184): a STAP-A with SPS and PPS before a keyframe, the slice in FU-A fragments of `mtu`. */
function picture(seq: number, ts: number, keyframe: boolean, sliceBytes = 3000, mtu = 1000): RtpIn[] {
  const packets: RtpIn[] = [];
  const header = (marker: boolean) => ({ sequenceNumber: (seq + packets.length) & 0xffff, timestamp: ts >>> 0, marker });
  if (keyframe) {
    const sps = Buffer.from([NAL.sps, 0x42, 0xe0, 0x1f, 1, 2]), pps = Buffer.from([NAL.pps, 0xce, 0x3c]);
    const stap = Buffer.concat([Buffer.from([24]), Buffer.from([0, sps.length]), sps, Buffer.from([0, pps.length]), pps]);
    packets.push({ header: header(false), payload: stap });
  }
  const slice = Buffer.alloc(sliceBytes, 0xab);
  slice[0] = keyframe ? NAL.idr : NAL.slice;
  const body = slice.subarray(1);
  for (let off = 0; off < body.length; off += mtu) {
    const last = off + mtu >= body.length;
    const fuHeader = (off === 0 ? 0x80 : 0) | (last ? 0x40 : 0) | (slice[0] & 0x1f);
    packets.push({ header: header(last), payload: Buffer.concat([Buffer.from([(slice[0] & 0x60) | 28, fuHeader]), body.subarray(off, off + mtu)]) });
  }
  return packets;
}

function assembler(now: { ms: number }) {
  const frames: H264Frame[] = [];
  let losses = 0;
  const a = new H264FrameAssembler({ onFrame: (f) => frames.push(f), onLoss: () => losses++, maxWaitMs: 100, now: () => now.ms });
  return { a, frames, losses: () => losses };
}

const nalTypes = (annexB: Buffer) => annexB.toString('hex').split('00000001').filter(Boolean).map((h) => parseInt(h.slice(0, 2), 16) & 0x1f);

t.test('pictures come out whole, in order, as Annex B with their parameter sets', async (t) => {
  const now = { ms: 0 };
  const { a, frames, losses } = assembler(now);
  let seq = 65530; // wraps during the stream
  for (let i = 0; i < 6; i++) {
    const ps = picture(seq, 90_000 + i * 3000, i % 3 === 0);
    seq += ps.length;
    for (const p of ps) a.push(p);
  }
  t.equal(frames.length, 6, 'six pictures');
  t.same(frames.map((f) => f.keyframe), [true, false, false, true, false, false]);
  t.same(frames.map((f) => f.rtpTimestamp), [0, 1, 2, 3, 4, 5].map((i) => 90_000 + i * 3000));
  t.same(nalTypes(frames[0].annexB), [7, 8, 5], 'SPS, PPS, IDR');
  t.equal(frames[1].annexB.length, 4 + 3000, 'the FU-A fragments joined into one NAL unit');
  t.equal(losses(), 0);
});

t.test('reordered packets are put back in order', async (t) => {
  const now = { ms: 0 };
  const { a, frames } = assembler(now);
  const ps = [...picture(100, 0, true), ...picture(104, 3000, false)];
  t.equal(ps.length, 7);
  const shuffled = [ps[0], ps[2], ps[1], ps[5], ps[3], ps[4], ps[6]];
  for (const p of shuffled) a.push(p);
  t.equal(frames.length, 2);
  t.same(frames.map((f) => f.rtpTimestamp), [0, 3000]);
});

t.test('a lost packet: waited for, then the picture and all until the next keyframe are dropped, and a keyframe asked for', async (t) => {
  const now = { ms: 0 };
  const { a, frames, losses } = assembler(now);
  let seq = 0;
  const next = (ts: number, key: boolean) => { const ps = picture(seq, ts, key); seq += ps.length; return ps; };
  for (const p of next(0, true)) a.push(p);
  const broken = next(3000, false);
  for (const p of broken.filter((_, i) => i !== 1)) a.push(p); // one fragment lost
  now.ms = 50;
  for (const p of next(6000, false)) a.push(p);
  t.equal(frames.length, 1, 'held while the retransmission may come');
  now.ms = 200;
  for (const p of next(9000, false)) a.push(p);
  t.equal(losses(), 1, 'the loss reported once the wait is over');
  t.equal(frames.length, 1, 'pictures after the loss are not handed on: they refer to the lost one');
  for (const p of next(12000, true)) a.push(p);
  t.same(frames.map((f) => [f.rtpTimestamp, f.keyframe]), [[0, true], [12000, true]], 'on again from the keyframe');
});

t.test('a retransmitted packet within the wait completes its picture', async (t) => {
  const now = { ms: 0 };
  const { a, frames, losses } = assembler(now);
  const ps = [...picture(0, 0, true), ...picture(4, 3000, false)];
  for (const p of ps) if (p !== ps[5]) a.push(p);
  now.ms = 40;
  a.push(ps[5]);
  t.equal(frames.length, 2);
  t.equal(losses(), 0);
});

t.test('joined mid-picture: the broken head is dropped; repeated packets are ignored', async (t) => {
  const now = { ms: 0 };
  const { a, frames } = assembler(now);
  const first = picture(0, 0, true);
  for (const p of first.slice(2)) a.push(p); // the STAP-A and the first fragment never came
  for (const p of picture(first.length, 3000, true)) { a.push(p); a.push(p); }
  t.same(frames.map((f) => f.rtpTimestamp), [3000]);
});

t.test('RTP numbers unwrap; a track\'s clock starts at its first packet\'s arrival', async (t) => {
  const u = new Unwrapper(16);
  t.same([65534, 65535, 0, 1, 65535, 2].map((v) => u.unwrap(v)), [65534, 65535, 65536, 65537, 65535, 65538]);
  const clock = new RtpClock(90_000, 1_000_000);
  t.equal(clock.ticks(4_294_967_000, 1_000_500), 45_000, 'placed at its arrival, 0.5 s into the session');
  t.equal(clock.ticks(3000 - 296, 1_000_600), 45_000 + 3000, 'after the 32-bit wrap, by the timestamp difference, not the arrival');
  const audio = new RtpClock(48_000, 1_000_000);
  t.equal(audio.ticks(123, 1_000_520), 24_960);
});
