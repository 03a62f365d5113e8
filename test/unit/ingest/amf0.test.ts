import t from 'tap';
import { AMF0_MAX_DEPTH, Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Value } from '../../../src/ingest/rtmp/amf0.js';
import { RtmpProtocolError } from '../../../src/ingest/rtmp/errors.js';

const roundTrips: { name: string; values: Amf0Value[]; expect?: Amf0Value[] }[] = [
  { name: 'numbers', values: [0, -1.5, 1e300, Number.MAX_SAFE_INTEGER, -0] },
  { name: 'booleans', values: [true, false] },
  { name: 'strings, including UTF-8 and empty', values: ['', 'connect', 'héllo ✓ 日本'] },
  { name: 'long string (> 65535 bytes)', values: ['x'.repeat(70_000)] },
  { name: 'null and undefined', values: [null, undefined] },
  { name: 'date', values: [new Date(1_700_000_000_123)] },
  { name: 'object with nesting', values: [{ app: 'live', flashVer: 'FMLE/3.0', nested: { a: 1, b: [1, 'two', null] }, empty: {} }] },
  { name: 'strict array', values: [[1, 'a', true, null, [2, [3]]]] },
  {
    name: 'ECMA array decodes to a plain object',
    values: [new Amf0EcmaArray({ width: 640, height: 360, encoder: 'Lavf59' })],
    expect: [{ width: 640, height: 360, encoder: 'Lavf59' }],
  },
  {
    name: 'a full connect command',
    values: ['connect', 1, { app: 'live', type: 'nonprivate', tcUrl: 'rtmp://127.0.0.1:1935/live' }],
  },
];

for (const c of roundTrips) {
  t.test(`round trip: ${c.name}`, async (t) => {
    t.same(decodeAmf0(encodeAmf0(...c.values)), c.expect ?? c.values);
  });
}

t.test('object keys like __proto__ stay data', async (t) => {
  // Build { "__proto__": { polluted: true } } by hand: encoders cannot produce it from a literal.
  const key = Buffer.from('__proto__');
  const inner = encodeAmf0({ polluted: true });
  const bytes = Buffer.concat([Buffer.from([0x03, 0, key.length]), key, inner, Buffer.from([0, 0, 9])]);
  const [obj] = decodeAmf0(bytes) as [Record<string, unknown>];
  t.equal(Object.getPrototypeOf(obj), Object.prototype);
  t.same(Object.keys(obj), ['__proto__']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('ECMA array with a wrong count is read to its end marker', async (t) => {
  const bytes = encodeAmf0(new Amf0EcmaArray({ a: 1, b: 2 }));
  bytes.writeUInt32BE(99, 1);
  t.same(decodeAmf0(bytes), [{ a: 1, b: 2 }]);
});

function deep(n: number): Buffer {
  // n nested strict arrays of one element, innermost null
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(Buffer.from([0x0a, 0, 0, 0, 1]));
  parts.push(Buffer.from([0x05]));
  return Buffer.concat(parts);
}

const hostile: { name: string; bytes: Buffer; match: RegExp }[] = [
  { name: 'truncated number', bytes: Buffer.from([0x00, 1, 2, 3]), match: /truncated number at offset 1: need 8 bytes, 3 left/ },
  { name: 'truncated string', bytes: Buffer.from([0x02, 0, 10, 0x61]), match: /truncated string/ },
  { name: 'long string claiming 4 GB', bytes: Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff, 0x61]), match: /truncated long string/ },
  { name: 'object without end marker', bytes: Buffer.from([0x03, 0, 1, 0x61, 0x05]), match: /truncated property name/ },
  { name: 'strict array claiming 2^32-1 elements', bytes: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]), match: /strict array claims 4294967295 elements with 1 bytes left/ },
  { name: 'unknown marker', bytes: Buffer.from([0x42]), match: /unsupported AMF0 type marker 0x42 at offset 0/ },
  { name: 'reference marker', bytes: Buffer.from([0x07, 0, 1]), match: /unsupported AMF0 type marker 0x07/ },
  { name: 'AMF3 switch marker', bytes: Buffer.from([0x11, 0x01]), match: /unsupported AMF0 type marker 0x11/ },
  { name: 'stray object end', bytes: Buffer.from([0x09]), match: /unexpected object end marker/ },
  { name: 'deep nesting', bytes: deep(10_000), match: new RegExp(`nesting deeper than ${AMF0_MAX_DEPTH} levels`) },
  { name: 'truncated date', bytes: Buffer.from([0x0b, 0, 0, 0]), match: /truncated date/ },
];

for (const c of hostile) {
  t.test(`hostile input: ${c.name}`, async (t) => {
    let err: unknown;
    try {
      decodeAmf0(c.bytes);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof RtmpProtocolError, 'throws RtmpProtocolError');
    t.equal((err as RtmpProtocolError).kind, 'amf');
    t.match((err as RtmpProtocolError).reason, c.match);
  });
}

t.test('nesting at the limit still decodes', async (t) => {
  t.doesNotThrow(() => decodeAmf0(deep(AMF0_MAX_DEPTH)));
});
