import { RtmpProtocolError } from './errors.js';

/** A decoded AMF0 value. Objects and ECMA arrays both decode to plain objects. */
export type Amf0Value =
  | number | boolean | string | null | undefined | Date
  | Amf0Value[]
  | Amf0Object
  | Amf0EcmaArray;
export interface Amf0Object { [key: string]: Amf0Value }

/** Wrap an object in this to encode it as an ECMA array (marker 0x08), as onMetaData usually is. */
export class Amf0EcmaArray {
  constructor(readonly entries: Amf0Object) {}
}

/** AMF0 type markers (AMF0 spec section 2.1). */
export const AMF0 = {
  number: 0x00, boolean: 0x01, string: 0x02, object: 0x03, movieclip: 0x04, null: 0x05,
  undefined: 0x06, reference: 0x07, ecmaArray: 0x08, objectEnd: 0x09, strictArray: 0x0a,
  date: 0x0b, longString: 0x0c, unsupported: 0x0d, recordset: 0x0e, xmlDocument: 0x0f,
  typedObject: 0x10, avmplusObject: 0x11,
} as const;

/** Nesting deeper than this is hostile: no RTMP command needs more than a few levels. */
export const AMF0_MAX_DEPTH = 32;

function fail(reason: string): never {
  throw new RtmpProtocolError('amf', reason);
}

/**
 * Decodes every AMF0 value in `buf` (an RTMP command or data message body). Throws
 * RtmpProtocolError on truncated or malformed input. Work is bounded by the input: every
 * count is checked against the bytes left before anything is allocated, and nesting is capped.
 */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const r = new Amf0Reader(buf);
  const values: Amf0Value[] = [];
  while (r.pos < buf.length) values.push(r.value(0));
  return values;
}

class Amf0Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      fail(`truncated ${what} at offset ${this.pos}: need ${n} bytes, ${this.buf.length - this.pos} left`);
    }
  }

  private utf8(len: number, what: string): string {
    this.need(len, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private shortString(what: string): string {
    this.need(2, what);
    const len = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return this.utf8(len, what);
  }

  value(depth: number): Amf0Value {
    if (depth > AMF0_MAX_DEPTH) fail(`nesting deeper than ${AMF0_MAX_DEPTH} levels`);
    this.need(1, 'type marker');
    const marker = this.buf[this.pos++];
    switch (marker) {
      case AMF0.number: {
        this.need(8, 'number');
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case AMF0.boolean:
        this.need(1, 'boolean');
        return this.buf[this.pos++] !== 0;
      case AMF0.string:
        return this.shortString('string');
      case AMF0.longString: {
        this.need(4, 'long string length');
        const len = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        return this.utf8(len, 'long string');
      }
      case AMF0.null:
        return null;
      case AMF0.undefined:
        return undefined;
      case AMF0.object:
        return this.properties(depth);
      case AMF0.typedObject:
        this.shortString('typed object class name');
        return this.properties(depth);
      case AMF0.ecmaArray:
        // The count is only a hint (encoders get it wrong); the end marker terminates it.
        this.need(4, 'ECMA array count');
        this.pos += 4;
        return this.properties(depth);
      case AMF0.strictArray: {
        this.need(4, 'strict array count');
        const count = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        // Each element takes at least one byte: a count beyond the bytes left is a lie.
        if (count > this.buf.length - this.pos) fail(`strict array claims ${count} elements with ${this.buf.length - this.pos} bytes left`);
        const arr: Amf0Value[] = [];
        for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case AMF0.date: {
        this.need(10, 'date');
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10; // 8 bytes ms since epoch + 2 bytes time zone (reserved, 0)
        return new Date(ms);
      }
      case AMF0.objectEnd:
        return fail(`unexpected object end marker at offset ${this.pos - 1}`);
      default:
        return fail(`unsupported AMF0 type marker 0x${marker.toString(16).padStart(2, '0')} at offset ${this.pos - 1}`);
    }
  }

  /** Key/value pairs until the empty key followed by the object end marker. */
  private properties(depth: number): Amf0Object {
    const obj: Amf0Object = {};
    for (;;) {
      const key = this.shortString('property name');
      if (key === '') {
        this.need(1, 'object end marker');
        if (this.buf[this.pos] === AMF0.objectEnd) {
          this.pos++;
          return obj;
        }
        // An empty key with a value is legal (rare); fall through and read it.
      }
      const v = this.value(depth + 1);
      // defineProperty: a hostile "__proto__" key must become data, not a prototype.
      Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
}

/** Encodes values as consecutive AMF0 values (e.g. an RTMP command: name, txn id, object, args). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(v, parts, 0);
  return Buffer.concat(parts);
}

function encodeString(s: string, parts: Buffer[], withMarker: boolean): void {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > 0xffff) {
    if (!withMarker) throw new RangeError('AMF0 property name longer than 65535 bytes');
    const h = Buffer.allocUnsafe(5);
    h[0] = AMF0.longString;
    h.writeUInt32BE(bytes.length, 1);
    parts.push(h, bytes);
    return;
  }
  const h = Buffer.allocUnsafe(withMarker ? 3 : 2);
  if (withMarker) h[0] = AMF0.string;
  h.writeUInt16BE(bytes.length, withMarker ? 1 : 0);
  parts.push(h, bytes);
}

const OBJECT_END = Buffer.from([0, 0, AMF0.objectEnd]);

function encodeProperties(obj: Amf0Object, parts: Buffer[], depth: number): void {
  for (const [k, v] of Object.entries(obj)) {
    encodeString(k, parts, false);
    encodeValue(v, parts, depth + 1);
  }
  parts.push(OBJECT_END);
}

function encodeValue(v: Amf0Value, parts: Buffer[], depth: number): void {
  if (depth > AMF0_MAX_DEPTH) throw new RangeError(`AMF0 value nested deeper than ${AMF0_MAX_DEPTH} levels`);
  if (v === null) parts.push(Buffer.from([AMF0.null]));
  else if (v === undefined) parts.push(Buffer.from([AMF0.undefined]));
  else if (typeof v === 'number') {
    const b = Buffer.allocUnsafe(9);
    b[0] = AMF0.number;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') parts.push(Buffer.from([AMF0.boolean, v ? 1 : 0]));
  else if (typeof v === 'string') encodeString(v, parts, true);
  else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = AMF0.date;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const h = Buffer.allocUnsafe(5);
    h[0] = AMF0.strictArray;
    h.writeUInt32BE(v.length, 1);
    parts.push(h);
    for (const e of v) encodeValue(e, parts, depth + 1);
  } else if (v instanceof Amf0EcmaArray) {
    const h = Buffer.allocUnsafe(5);
    h[0] = AMF0.ecmaArray;
    h.writeUInt32BE(Object.keys(v.entries).length, 1);
    parts.push(h);
    encodeProperties(v.entries, parts, depth);
  } else {
    parts.push(Buffer.from([AMF0.object]));
    encodeProperties(v, parts, depth);
  }
}
