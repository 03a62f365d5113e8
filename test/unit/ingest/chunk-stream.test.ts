import t from 'tap';
import { ChunkStreamParser, ChunkWriter, type RtmpMessage } from '../../../src/ingest/rtmp/chunk-stream.js';
import { RtmpProtocolError } from '../../../src/ingest/rtmp/errors.js';

/** One chunk, described field by field, so tests control exactly which header form is sent. */
interface ChunkSpec {
  fmt: 0 | 1 | 2 | 3;
  csid: number;
  /** Timestamp or delta field; >= 0xFFFFFF is sent as 0xFFFFFF + 4-byte extended field. */
  ts?: number;
  length?: number;
  type?: number;
  streamId?: number;
  /** For type 3: append this 4-byte extended timestamp. */
  ext3?: number;
  payload: Buffer;
}

function basicHeader(fmt: number, csid: number): Buffer {
  if (csid < 64) return Buffer.from([(fmt << 6) | csid]);
  if (csid < 320) return Buffer.from([fmt << 6, csid - 64]);
  return Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
}

function chunk(c: ChunkSpec): Buffer {
  const parts = [basicHeader(c.fmt, c.csid)];
  if (c.fmt < 3) {
    const ts = c.ts ?? 0;
    const ext = ts >= 0xffffff;
    const h = Buffer.alloc(c.fmt === 0 ? 11 : c.fmt === 1 ? 7 : 3);
    h.writeUIntBE(ext ? 0xffffff : ts, 0, 3);
    if (c.fmt <= 1) {
      h.writeUIntBE(c.length ?? c.payload.length, 3, 3);
      h[6] = c.type ?? 9;
    }
    if (c.fmt === 0) h.writeUInt32LE(c.streamId ?? 1, 7);
    parts.push(h);
    if (ext) {
      const e = Buffer.alloc(4);
      e.writeUInt32BE(ts, 0);
      parts.push(e);
    }
  } else if (c.ext3 !== undefined) {
    const e = Buffer.alloc(4);
    e.writeUInt32BE(c.ext3, 0);
    parts.push(e);
  }
  parts.push(c.payload);
  return Buffer.concat(parts);
}

function setChunkSize(size: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(size, 0);
  return chunk({ fmt: 0, csid: 2, ts: 0, type: 1, streamId: 0, payload: p });
}

function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Splits a message payload into type 0 + type 3 chunks of `size`, optionally repeating an extended ts. */
function chunked(size: number, csid: number, type: number, ts: number, payload: Buffer, ext3 = false): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length || off === 0; off += size) {
    const piece = payload.subarray(off, off + size);
    if (off === 0) out.push(chunk({ fmt: 0, csid, ts, type, length: payload.length, payload: piece }));
    else out.push(chunk({ fmt: 3, csid, ext3: ext3 ? ts : undefined, payload: piece }));
    if (payload.length === 0) break;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so random splits are reproducible. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Feed = 'whole' | 'byte-by-byte' | 'random splits';
const FEEDS: Feed[] = ['whole', 'byte-by-byte', 'random splits'];

function parse(bytes: Buffer, feed: Feed, opts?: { maxMessageLength?: number }): RtmpMessage[] {
  const p = new ChunkStreamParser(opts);
  const out: RtmpMessage[] = [];
  if (feed === 'whole') out.push(...p.push(bytes));
  else if (feed === 'byte-by-byte') for (let i = 0; i < bytes.length; i++) out.push(...p.push(bytes.subarray(i, i + 1)));
  else {
    const r = rng(bytes.length);
    for (let i = 0; i < bytes.length;) {
      const n = 1 + Math.floor(r() * 300);
      out.push(...p.push(bytes.subarray(i, i + n)));
      i += n;
    }
  }
  return out;
}

/** Drops protocol control messages so cases compare media only. */
const media = (m: RtmpMessage[]) => m.filter((x) => x.type !== 1 && x.type !== 2);
const summary = (m: RtmpMessage[]) => media(m).map((x) => ({ csid: x.csid, type: x.type, streamId: x.streamId, timestamp: x.timestamp, len: x.payload.length }));

interface Case {
  name: string;
  bytes: () => Buffer;
  expect: { csid: number; type: number; streamId: number; timestamp: number; len: number }[];
  /** Expected payloads, checked byte for byte when given. */
  payloads?: () => Buffer[];
}

const big = pattern(200_000, 7);
const cases: Case[] = [
  ...[1, 128, 4096, 65536].map((size): Case => {
    const a = pattern(3000, 1), v = pattern(100_000, 2);
    return {
      name: `chunk size ${size}: one audio and one video message`,
      bytes: () => Buffer.concat([...(size === 128 ? [] : [setChunkSize(size)]),
        ...chunked(size, 4, 8, 10, a), ...chunked(size, 6, 9, 20, v)]),
      expect: [{ csid: 4, type: 8, streamId: 1, timestamp: 10, len: 3000 }, { csid: 6, type: 9, streamId: 1, timestamp: 20, len: 100_000 }],
      payloads: () => [a, v],
    };
  }),
  {
    name: 'all four header types: type 1 and 2 add deltas, type 3 repeats the last delta',
    bytes: () => Buffer.concat([
      chunk({ fmt: 0, csid: 6, ts: 1000, type: 9, payload: pattern(10, 1) }),
      chunk({ fmt: 1, csid: 6, ts: 33, type: 9, payload: pattern(5, 2) }),
      chunk({ fmt: 2, csid: 6, ts: 34, payload: pattern(5, 3) }),
      chunk({ fmt: 3, csid: 6, payload: pattern(5, 4) }),
    ]),
    expect: [
      { csid: 6, type: 9, streamId: 1, timestamp: 1000, len: 10 },
      { csid: 6, type: 9, streamId: 1, timestamp: 1033, len: 5 },
      { csid: 6, type: 9, streamId: 1, timestamp: 1067, len: 5 },
      { csid: 6, type: 9, streamId: 1, timestamp: 1101, len: 5 },
    ],
    payloads: () => [pattern(10, 1), pattern(5, 2), pattern(5, 3), pattern(5, 4)],
  },
  {
    name: 'type 3 new message right after type 0: the delta is the type 0 timestamp (spec 5.3.1.2.4)',
    bytes: () => Buffer.concat([
      chunk({ fmt: 0, csid: 4, ts: 40, type: 8, payload: pattern(4, 1) }),
      chunk({ fmt: 3, csid: 4, payload: pattern(4, 2) }),
    ]),
    expect: [{ csid: 4, type: 8, streamId: 1, timestamp: 40, len: 4 }, { csid: 4, type: 8, streamId: 1, timestamp: 80, len: 4 }],
  },
  {
    name: 'interleaved audio and video chunk streams',
    bytes: () => {
      const a = chunked(128, 4, 8, 5, pattern(400, 1));
      const v = chunked(128, 6, 9, 0, pattern(700, 2));
      const out: Buffer[] = [];
      for (let i = 0; i < Math.max(a.length, v.length); i++) {
        if (v[i]) out.push(v[i]);
        if (a[i]) out.push(a[i]);
      }
      return Buffer.concat(out);
    },
    expect: [{ csid: 4, type: 8, streamId: 1, timestamp: 5, len: 400 }, { csid: 6, type: 9, streamId: 1, timestamp: 0, len: 700 }],
    payloads: () => [pattern(400, 1), pattern(700, 2)],
  },
  {
    name: 'extended timestamp on type 0, repeated on type 3 continuation chunks (ffmpeg/OBS)',
    bytes: () => Buffer.concat(chunked(128, 6, 9, 0x1234567, pattern(500, 3), true)),
    expect: [{ csid: 6, type: 9, streamId: 1, timestamp: 0x1234567, len: 500 }],
    payloads: () => [pattern(500, 3)],
  },
  {
    name: 'extended timestamp on type 0, not repeated on continuation chunks',
    bytes: () => Buffer.concat(chunked(128, 6, 9, 0xffffff, pattern(500, 3), false)),
    expect: [{ csid: 6, type: 9, streamId: 1, timestamp: 0xffffff, len: 500 }],
    payloads: () => [pattern(500, 3)],
  },
  {
    name: 'type 3 chunk starting a new message carries the extended delta',
    bytes: () => Buffer.concat([
      chunk({ fmt: 0, csid: 6, ts: 100, type: 9, payload: pattern(10, 1) }),
      chunk({ fmt: 1, csid: 6, ts: 0x1000000, type: 9, payload: pattern(10, 2) }),
      chunk({ fmt: 3, csid: 6, ext3: 0x1000000, payload: pattern(10, 3) }),
    ]),
    expect: [
      { csid: 6, type: 9, streamId: 1, timestamp: 100, len: 10 },
      { csid: 6, type: 9, streamId: 1, timestamp: 100 + 0x1000000, len: 10 },
      { csid: 6, type: 9, streamId: 1, timestamp: 100 + 0x2000000, len: 10 },
    ],
    payloads: () => [pattern(10, 1), pattern(10, 2), pattern(10, 3)],
  },
  {
    name: '32-bit timestamp wrap is unwrapped into a monotonic clock',
    bytes: () => Buffer.concat([
      chunk({ fmt: 0, csid: 6, ts: 0xffffff00, type: 9, payload: pattern(3, 1) }),
      chunk({ fmt: 2, csid: 6, ts: 0x80, payload: pattern(3, 2) }),
      chunk({ fmt: 2, csid: 6, ts: 0x100, payload: pattern(3, 3) }),
      chunk({ fmt: 0, csid: 6, ts: 0x200, type: 9, payload: pattern(3, 4) }),
    ]),
    expect: [
      { csid: 6, type: 9, streamId: 1, timestamp: 0xffffff00, len: 3 },
      { csid: 6, type: 9, streamId: 1, timestamp: 0xffffff80, len: 3 },
      { csid: 6, type: 9, streamId: 1, timestamp: 0x1_0000_0080, len: 3 },
      { csid: 6, type: 9, streamId: 1, timestamp: 0x1_0000_0200, len: 3 },
    ],
  },
  {
    name: '2-byte and 3-byte basic headers (csid 64, 319, 320, 65599)',
    bytes: () => Buffer.concat([64, 319, 320, 65599].map((csid, i) => chunk({ fmt: 0, csid, ts: i, type: 8, payload: pattern(2, i) }))),
    expect: [64, 319, 320, 65599].map((csid, i) => ({ csid, type: 8, streamId: 1, timestamp: i, len: 2 })),
  },
  {
    name: 'abort message discards the partial message on its chunk stream',
    bytes: () => {
      const ab = Buffer.alloc(4);
      ab.writeUInt32BE(6, 0);
      return Buffer.concat([
        chunk({ fmt: 0, csid: 6, ts: 10, type: 9, length: 300, payload: pattern(128, 1) }),
        chunk({ fmt: 0, csid: 2, ts: 0, type: 2, streamId: 0, payload: ab }),
        chunk({ fmt: 0, csid: 6, ts: 20, type: 9, payload: pattern(50, 2) }),
      ]);
    },
    expect: [{ csid: 6, type: 9, streamId: 1, timestamp: 20, len: 50 }],
    payloads: () => [pattern(50, 2)],
  },
  {
    name: 'zero-length message',
    bytes: () => Buffer.concat([chunk({ fmt: 0, csid: 4, ts: 7, type: 8, payload: Buffer.alloc(0) }), chunk({ fmt: 0, csid: 4, ts: 8, type: 8, payload: pattern(1, 1) })]),
    expect: [{ csid: 4, type: 8, streamId: 1, timestamp: 7, len: 0 }, { csid: 4, type: 8, streamId: 1, timestamp: 8, len: 1 }],
  },
  {
    name: 'a 200 kB message at chunk size 4096',
    bytes: () => Buffer.concat([setChunkSize(4096), ...chunked(4096, 6, 9, 0, big)]),
    expect: [{ csid: 6, type: 9, streamId: 1, timestamp: 0, len: big.length }],
    payloads: () => [big],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const bytes = c.bytes();
    for (const feed of FEEDS) {
      const msgs = parse(bytes, feed);
      t.same(summary(msgs), c.expect, `${feed}: headers`);
      if (c.payloads) {
        const want = c.payloads();
        const got = media(msgs).map((m) => m.payload);
        t.ok(got.length === want.length && got.every((g, i) => g.equals(want[i])), `${feed}: payload bytes`);
      }
    }
  });
}

interface ErrorCase { name: string; bytes: Buffer; match: RegExp; max?: number }
const errorCases: ErrorCase[] = [
  { name: 'message longer than the cap', bytes: chunk({ fmt: 0, csid: 6, ts: 0, type: 9, length: 2_000_000, payload: Buffer.alloc(0) }), match: /exceeds the 1048576-byte limit/, max: 1 << 20 },
  { name: 'type 3 new message longer than the cap (cap checked per message)', bytes: Buffer.concat([chunk({ fmt: 0, csid: 6, ts: 0, type: 9, length: 600_000, payload: Buffer.alloc(128) })]), match: /600000 bytes on chunk stream 6 exceeds the 500000-byte limit/, max: 500_000 },
  {
    name: 'unfinished messages beyond twice the cap, across chunk streams',
    bytes: Buffer.concat([setChunkSize(800), ...[4, 5, 6].map((csid) => chunk({ fmt: 0, csid, ts: 0, type: 9, length: 1000, payload: Buffer.alloc(800) }))]),
    match: /more than 2000 bytes of unfinished messages/, max: 1000,
  },
  { name: 'Set Chunk Size 0', bytes: setChunkSize(0), match: /invalid chunk size 0/ },
  { name: 'Set Chunk Size with the top bit set', bytes: setChunkSize(0x80000000), match: /invalid chunk size 2147483648/ },
  { name: 'type 1 header on a chunk stream never seen', bytes: chunk({ fmt: 1, csid: 5, ts: 0, type: 9, payload: pattern(3, 0) }), match: /chunk stream 5 starts with a type 1 header/ },
  { name: 'type 3 header on a chunk stream never seen', bytes: Buffer.from([0xc7, 1, 2, 3]), match: /chunk stream 7 starts with a type 3 header/ },
];

for (const c of errorCases) {
  t.test(`error: ${c.name}`, async (t) => {
    for (const feed of FEEDS) {
      let err: unknown;
      try {
        parse(c.bytes, feed, { maxMessageLength: c.max });
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof RtmpProtocolError, `${feed}: RtmpProtocolError`);
      t.equal((err as RtmpProtocolError).kind, 'chunk');
      t.match((err as RtmpProtocolError).reason, c.match, `${feed}: reason`);
    }
  });
}

t.test('garbage bytes fail fast with a typed error (no hang, no huge allocation)', async (t) => {
  const r = rng(42);
  let errors = 0;
  for (let i = 0; i < 200; i++) {
    const g = Buffer.alloc(2000);
    for (let j = 0; j < g.length; j++) g[j] = Math.floor(r() * 256);
    try {
      new ChunkStreamParser({ maxMessageLength: 1 << 20 }).push(g);
    } catch (e) {
      t.ok(e instanceof RtmpProtocolError, 'typed error');
      errors++;
    }
  }
  t.ok(errors > 150, `most garbage is rejected (${errors}/200)`);
});

t.test('ChunkWriter output parses back (chunk sizes 128 and 4096, extended timestamps, long csids)', async (t) => {
  for (const size of [128, 4096]) {
    for (const [csid, ts] of [[3, 0], [5, 0xfffffe], [70, 0xffffff], [400, 0x87654321]] as const) {
      const w = new ChunkWriter();
      const parser = new ChunkStreamParser();
      let bytes: Buffer = Buffer.alloc(0);
      if (size !== 128) {
        const p = Buffer.alloc(4);
        p.writeUInt32BE(size, 0);
        bytes = w.write({ csid: 2, type: 1, streamId: 0, timestamp: 0, payload: p });
        w.setChunkSize(size);
      }
      const payload = pattern(10_000, csid);
      bytes = Buffer.concat([bytes, w.write({ csid, type: 20, streamId: 1, timestamp: ts, payload })]);
      const msgs = media(parser.push(bytes));
      t.equal(msgs.length, 1, `size ${size} csid ${csid}`);
      t.equal(msgs[0].timestamp, ts);
      t.equal(msgs[0].csid, csid);
      t.ok(msgs[0].payload.equals(payload));
    }
  }
});
