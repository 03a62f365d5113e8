/**
 * Translation tests for the HTTP adapters: one table of cases, run against every adapter (uWS,
 * node:http, node:http2 over TLS, h2c, and HTTP/1.1 on the TLS port through the ALPN fallback)
 * with a fake handle. The real handler has its own tests; here only request ▶ OriginRequest and
 * OriginReply ▶ bytes on the wire are checked.
 */
import type { CancelSignal } from '../../../src/cancellation.js';
import t, { type Test } from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Http2CleartextServer, Http2Server } from '../../../src/delivery/http2/http2-server.js';
import { NodeHttpServer } from '../../../src/delivery/node-http/node-http-server.js';
import type { Handle, HttpServerAdapter } from '../../../src/delivery/server.js';
import type { OriginRequest } from '../../../src/delivery/types.js';
import { UwsServer } from '../../../src/delivery/uws/uws-server.js';
import { silentLogger } from '../../../src/log.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** Client goes away mid-response: socket destroyed (HTTP/1.1) or RST_STREAM CANCEL (HTTP/2). */
  abort(): void;
  httpVersion: string;
  /** Identifies the connection the response came on (local port for HTTP/1.1, the session for HTTP/2). */
  connection: unknown;
  /** ALPN result for TLS connections ('h2', or false / 'http/1.1' for the fallback). */
  alpn?: string | false | null;
  /** HTTP/1.1: every header line as sent, names and values alternating (repeats kept). */
  rawHeaders?: string[];
}

interface TestClient {
  readonly http1: boolean;
  send(method: string, path: string, headers?: Record<string, string>): Promise<RawResponse>;
  close(): void;
}

interface Transport {
  name: string;
  start(handle: Handle): Promise<{ client: TestClient; server: HttpServerAdapter }>;
}

let dataDir: string | undefined;
/** One temporary dataDir for the whole run: the first TLS server generates the certificate, later ones reuse it. */
function testDataDir(): string {
  dataDir ??= mkdtempSync(join(tmpdir(), 'sigma-adapters-'));
  return dataDir;
}

function http1Client(port: number, tls: { ca: string } | undefined): TestClient {
  const agent = tls
    ? new https.Agent({ keepAlive: true, maxSockets: 4, ca: tls.ca })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });
  return {
    http1: true,
    send(method, path, headers = {}) {
      return new Promise<RawResponse>((resolve, reject) => {
        const opts = { host: tls ? 'localhost' : '127.0.0.1', port, method, path, headers, agent };
        const req = (tls ? https.request : http.request)(opts, (res) => {
          res.on('error', () => undefined); // an aborted response errors; the test looks at the server side
          const sock = res.socket as TLSSocket;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: res,
            abort: () => req.destroy(),
            httpVersion: res.httpVersion,
            connection: sock.localPort,
            alpn: tls ? sock.alpnProtocol : undefined,
            rawHeaders: res.rawHeaders,
          });
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

function http2Client(url: string, ca: string | undefined): TestClient {
  const session = http2.connect(url, ca ? { ca } : {});
  session.on('error', () => undefined);
  return {
    http1: false,
    send(method, path, headers = {}) {
      return new Promise<RawResponse>((resolve, reject) => {
        const stream = session.request({ ':method': method, ':path': path, ...headers }, { endStream: true });
        stream.on('error', reject);
        stream.once('response', (h) => {
          stream.off('error', reject);
          stream.on('error', () => undefined);
          const headers: Record<string, string | string[] | undefined> = {};
          for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = v as string | string[] | undefined;
          resolve({
            status: Number(h[':status']),
            headers,
            body: stream,
            abort: () => stream.close(http2.constants.NGHTTP2_CANCEL),
            httpVersion: '2.0',
            connection: session,
            alpn: (session.socket as TLSSocket | undefined)?.alpnProtocol,
          });
        });
      });
    },
    close: () => session.close(),
  };
}

const host = '127.0.0.1';
const logger = silentLogger();

const transports: Transport[] = [
  {
    name: 'uws (HTTP/1.1)',
    async start(handle) {
      const server = new UwsServer({ host, port: 0, handle, logger });
      const port = await server.listen();
      return { server, client: http1Client(port, undefined) };
    },
  },
  {
    name: 'node:http (HTTP/1.1)',
    async start(handle) {
      const server = new NodeHttpServer({ host, port: 0, handle, logger });
      const port = await server.listen();
      return { server, client: http1Client(port, undefined) };
    },
  },
  {
    name: 'http2 TLS (h2)',
    async start(handle) {
      const server = new Http2Server({ host, port: 0, dataDir: testDataDir(), handle, logger });
      const port = await server.listen();
      return { server, client: http2Client(`https://localhost:${port}`, server.certificatePem) };
    },
  },
  {
    name: 'http2 cleartext (h2c)',
    async start(handle) {
      const server = new Http2CleartextServer({ host, port: 0, handle, logger });
      const port = await server.listen();
      return { server, client: http2Client(`http://127.0.0.1:${port}`, undefined) };
    },
  },
  {
    name: 'http2 TLS port, HTTP/1.1 through ALPN fallback',
    async start(handle) {
      const server = new Http2Server({ host, port: 0, dataDir: testDataDir(), handle, logger });
      const port = await server.listen();
      return { server, client: http1Client(port, { ca: server.certificatePem }) };
    },
  },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects after `ms` so a broken adapter fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]);
}

/** Polls until `cond` holds. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(5);
  }
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Collects a body as it arrives, so a test can wait for a prefix before letting the server go on. */
function collect(body: Readable): { chunks: Buffer[]; text(): string; end: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  body.on('data', (c: Buffer) => chunks.push(c));
  const end = new Promise<Buffer>((resolve, reject) => {
    body.on('end', () => resolve(Buffer.concat(chunks)));
    body.on('error', reject);
  });
  end.catch(() => undefined);
  return { chunks, text: () => Buffer.concat(chunks).toString(), end };
}

// ---------------------------------------------------------------------------------------------
// The cases. Each gets a client to a server whose handle delegates to `ctx.handle`.

interface Ctx {
  client: TestClient;
  /** The transport's name in `transports`. */
  transport: string;
  /** What the server's handle does for this case. */
  handle: Handle;
}

type T = Test;
type Case = { name: string; run(t: T, ctx: Ctx): Promise<void> };

const CASES: Case[] = [
  {
    name: 'the client address and the HTTP version, read when the handler asks (at once or after a wait)',
    async run(t, ctx) {
      ctx.handle = (req) => {
        const now = `${req.remoteAddress} ${req.protocol}`;
        return new Promise((resolve) => setTimeout(() => resolve({ status: 200, headers: {},
          body: Buffer.from(`${now}|${req.remoteAddress} ${req.protocol}`) }), 20));
      };
      const res = await ctx.client.send('GET', '/live/demo/source.m3u8');
      const [atOnce, later] = (await readAll(res.body)).toString().split('|');
      const protocol = ctx.client.http1 ? 'h1' : 'h2';
      t.equal(atOnce, `127.0.0.1 ${protocol}`, 'the loopback client, in its HTTP version');
      t.equal(later, atOnce, 'the same after the handler waited');
    },
  },
  {
    name: '200 with a Buffer body: status, body and headers preserved (names lower-cased)',
    async run(t, ctx) {
      ctx.handle = async () => ({
        status: 200,
        headers: { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=1', 'X-Sigma-Custom': 'yes' },
        body: Buffer.from('#EXTM3U\n'),
      });
      const res = await ctx.client.send('GET', '/live/demo/index.m3u8');
      const body = await readAll(res.body);
      t.equal(res.status, 200);
      t.equal(body.toString(), '#EXTM3U\n');
      t.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl');
      t.equal(res.headers['cache-control'], 'max-age=1');
      t.equal(res.headers['x-sigma-custom'], 'yes');
      t.equal(res.headers['content-length'], '8');
    },
  },
  {
    name: 'Buffer[] body arrives concatenated and exact, with its total content-length',
    async run(t, ctx) {
      ctx.handle = async () => ({ status: 200, headers: { 'content-type': 'video/mp4' }, body: [Buffer.from('moof'), Buffer.alloc(0), Buffer.from('mdat'), Buffer.from([0, 1, 2, 255])] });
      const res = await ctx.client.send('GET', '/live/demo/v0/1.m4s');
      const body = await readAll(res.body);
      t.equal(res.status, 200);
      t.same([...body], [...Buffer.concat([Buffer.from('moofmdat'), Buffer.from([0, 1, 2, 255])])]);
      t.equal(res.headers['content-length'], '12');
    },
  },
  {
    name: 'AsyncIterable body is delivered chunk by chunk as it is produced',
    async run(t, ctx) {
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let secondProduced = false;
      ctx.handle = async (req) => ({
        status: 200,
        headers: { 'content-type': 'video/mp4', 'cache-control': 'no-store' },
        body: (async function* () {
          yield Buffer.from('part0;');
          await Promise.race([gate, new Promise((r) => req.signal.addEventListener('abort', () => r(undefined)))]);
          secondProduced = true;
          yield Buffer.from('part1;');
          yield Buffer.alloc(0); // empty chunks must not end a chunked body early
          yield Buffer.from('part2;');
        })(),
      });
      const res = await ctx.client.send('GET', '/live/demo/v0/7.m4s');
      t.equal(res.status, 200);
      if (ctx.client.http1) {
        t.equal(res.headers['transfer-encoding'], 'chunked', 'HTTP/1.1 uses chunked transfer');
        t.notOk(res.headers['content-length'], 'no content-length on a stream');
      }
      const got = collect(res.body);
      await within(until(() => got.text() === 'part0;', 3000, 'first chunk'), 4000, 'first chunk');
      t.notOk(secondProduced, 'the client had the first chunk before the second was produced');
      release();
      t.equal((await within(got.end, 3000, 'end of stream')).toString(), 'part0;part1;part2;');
    },
  },
  {
    name: 'HEAD: headers and content-length, no body; the connection stays usable',
    async run(t, ctx) {
      // The fake handle returns a body even for HEAD: the adapter must not send it.
      ctx.handle = async (req) => ({ status: 200, headers: { 'content-type': 'text/plain', 'x-m': req.method }, body: [Buffer.from('hello '), Buffer.from('world')] });
      const head = await ctx.client.send('HEAD', '/x');
      t.equal(head.status, 200);
      t.equal(head.headers['content-length'], '11');
      t.equal(head.headers['x-m'], 'HEAD');
      t.equal((await readAll(head.body)).length, 0, 'no body');
      // What OriginHandler does: body dropped, content-length set by hand.
      ctx.handle = async () => ({ status: 200, headers: { 'content-type': 'video/mp4', 'content-length': '1234' } });
      const head2 = await ctx.client.send('HEAD', '/y');
      t.equal(head2.headers['content-length'], '1234');
      t.equal((await readAll(head2.body)).length, 0, 'no body');
      // A stream body on HEAD is released unread.
      let streamStarted = false;
      ctx.handle = async () => ({ status: 200, headers: {}, body: (async function* () { streamStarted = true; yield Buffer.from('x'); })() });
      const head3 = await ctx.client.send('HEAD', '/z');
      t.equal((await readAll(head3.body)).length, 0, 'no body');
      if (ctx.client.http1) t.equal(head3.headers['transfer-encoding'], 'chunked', 'unknown length announced as the GET would be');
      await sleep(20);
      t.notOk(streamStarted, 'the stream of a HEAD reply is not read');
      // The next request on the same connection must parse cleanly (no stray body bytes, no stalled response).
      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('after head') });
      const get = await within(ctx.client.send('GET', '/z'), 3000, 'GET after HEAD');
      t.equal((await readAll(get.body)).toString(), 'after head');
      t.equal(get.connection, head.connection, 'same connection');
    },
  },
  {
    name: 'query string, method, path and request headers reach the handler',
    async run(t, ctx) {
      let seen: Record<string, unknown> = {};
      ctx.handle = async (req: OriginRequest) => {
        seen = {
          method: req.method, path: req.path, query: req.query,
          custom: req.header('x-test-header'), mixedCase: req.header('X-Test-Header'),
          host: req.header('host'), missing: req.header('x-absent'),
        };
        return { status: 204, headers: {} };
      };
      const res = await ctx.client.send('GET', '/live/demo/v0.m3u8?_HLS_msn=12&_HLS_part=3&x=%20', { 'X-Test-Header': 'Value 1' });
      await readAll(res.body);
      t.equal(res.status, 204);
      t.equal(seen.method, 'GET');
      t.equal(seen.path, '/live/demo/v0.m3u8');
      t.equal(seen.query, '_HLS_msn=12&_HLS_part=3&x=%20');
      t.equal(seen.custom, 'Value 1');
      t.equal(seen.mixedCase, 'Value 1', 'header() is case-insensitive');
      t.match(seen.host, /^(127\.0\.0\.1|localhost):\d+$/, 'host (or :authority on HTTP/2)');
      t.equal(seen.missing, undefined);
      ctx.handle = async (req) => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify({ q: req.query })) });
      const res2 = await ctx.client.send('GET', '/no-query');
      t.same(JSON.parse((await readAll(res2.body)).toString()), { q: '' }, 'no query ▶ empty string');
    },
  },
  {
    name: 'client abort mid-stream aborts the signal, runs the iterator finally, and the server goes on serving',
    async run(t, ctx) {
      let finallyRan = false;
      let signal: CancelSignal | undefined;
      ctx.handle = async (req) => {
        signal = req.signal;
        return {
          status: 200,
          headers: { 'content-type': 'video/mp4' },
          body: (async function* () {
            try {
              yield Buffer.from('first');
              // A waiter that honours the signal, like LiveWindow.waitFor.
              await new Promise((r) => { req.signal.addEventListener('abort', () => r(undefined)); setTimeout(r, 10_000).unref(); });
              yield Buffer.from('never');
            } finally {
              finallyRan = true;
            }
          })(),
        };
      };
      const res = await ctx.client.send('GET', '/live/demo/v0/9.m4s');
      const got = collect(res.body);
      await within(until(() => got.text() === 'first', 3000, 'first chunk'), 4000, 'first chunk');
      t.equal(signal?.aborted, false, 'not aborted while the client is there');
      res.abort();
      await until(() => signal?.aborted === true, 3000, 'signal aborted');
      await until(() => finallyRan, 3000, 'iterator finally ran');
      t.pass('signal aborted and iterator released');

      // An iterator that ignores the signal is released at its next yield.
      let finally2 = false;
      ctx.handle = async () => ({
        status: 200, headers: {},
        body: (async function* () {
          try {
            yield Buffer.from('a');
            await sleep(200);
            yield Buffer.from('b');
            await sleep(10_000);
          } finally {
            finally2 = true;
          }
        })(),
      });
      const res2 = await ctx.client.send('GET', '/ignores-signal');
      const got2 = collect(res2.body);
      await until(() => got2.text().startsWith('a'), 3000, 'first chunk');
      res2.abort();
      await until(() => finally2, 3000, 'signal-ignoring iterator released');
      t.pass('signal-ignoring iterator released');

      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('still here') });
      const next = await within(ctx.client.send('GET', '/next'), 3000, 'request after abort');
      t.equal((await readAll(next.body)).toString(), 'still here');
    },
  },
  {
    name: 'Date and Expires: the handler\'s are sent (uWS sends its own Date, never a second one)',
    async run(t, ctx) {
      const date = 'Tue, 01 Dec 2026 10:00:00 GMT', expires = 'Tue, 01 Dec 2026 10:00:12 GMT';
      ctx.handle = async () => ({
        status: 200, headers: { 'content-type': 'video/iso.segment', 'cache-control': 'public, max-age=12', date, expires }, body: Buffer.from('x'),
      });
      const res = await ctx.client.send('GET', '/live/demo/source.m3u8');
      await readAll(res.body);
      t.equal(res.headers.expires, expires, 'Expires as the handler set it');
      if (res.rawHeaders) {
        const dates = res.rawHeaders.filter((_, i) => i % 2 === 0 && res.rawHeaders![i].toLowerCase() === 'date');
        t.equal(dates.length, 1, 'one Date header');
      }
      if (ctx.transport.startsWith('uws')) {
        t.ok(Math.abs(Date.parse(res.headers.date as string) - Date.now()) < 5000, `uWS's own Date, the current time (${res.headers.date})`);
      } else {
        t.equal(res.headers.date, date, 'Date as the handler set it');
      }
    },
  },
  {
    name: 'keep-alive: two requests on one connection',
    async run(t, ctx) {
      ctx.handle = async (req) => ({ status: 200, headers: {}, body: Buffer.from(req.path) });
      const a = await ctx.client.send('GET', '/one');
      t.equal((await readAll(a.body)).toString(), '/one');
      const b = await ctx.client.send('GET', '/two');
      t.equal((await readAll(b.body)).toString(), '/two');
      t.ok(a.connection !== undefined && a.connection === b.connection, 'same connection');
      if (ctx.client.http1) t.equal(b.httpVersion, '1.1');
    },
  },
  {
    name: 'large Buffer[] body (8 MiB as 32 buffers) to a slow-reading client arrives intact',
    async run(t, ctx) {
      const pieces = Array.from({ length: 32 }, (_, i) => {
        const b = Buffer.alloc(256 * 1024);
        for (let j = 0; j < b.length; j += 4096) b.writeUInt32BE((i << 16) | (j >> 12), j);
        return b.fill(i, 4, 4096);
      });
      ctx.handle = async () => ({ status: 200, headers: { 'content-type': 'video/mp4' }, body: pieces });
      const res = await ctx.client.send('GET', '/big.m4s');
      t.equal(res.headers['content-length'], String(8 * 1024 * 1024));
      // Read nothing for a while (the server fills the socket and must wait for it to drain), then slowly.
      res.body.pause();
      await sleep(300);
      const got: Buffer[] = [];
      let n = 0;
      let nextPause = 512 * 1024;
      for await (const c of res.body) {
        got.push(c as Buffer);
        n += (c as Buffer).length;
        if (n >= nextPause) { nextPause += 512 * 1024; await sleep(10); }
      }
      const body = Buffer.concat(got);
      t.equal(body.length, 8 * 1024 * 1024);
      t.ok(body.equals(Buffer.concat(pieces)), 'bytes exact and in order');
    },
  },
  {
    name: 'large stream to a slow-reading client arrives intact (stream backpressure)',
    async run(t, ctx) {
      const chunk = (i: number) => Buffer.alloc(128 * 1024, i);
      ctx.handle = async () => ({
        status: 200, headers: {},
        body: (async function* () { for (let i = 0; i < 48; i++) yield chunk(i); })(),
      });
      const res = await ctx.client.send('GET', '/big-stream');
      res.body.pause();
      await sleep(300);
      const body = await readAll(res.body);
      t.equal(body.length, 48 * 128 * 1024);
      t.ok(body.equals(Buffer.concat(Array.from({ length: 48 }, (_, i) => chunk(i)))), 'bytes exact and in order');
    },
  },
  {
    name: 'handle that throws (or rejects) ▶ 500 JSON, and the server keeps serving',
    async run(t, ctx) {
      const expected = { error: { code: 'INTERNAL', message: 'internal error' } };
      ctx.handle = (() => { throw new Error('sync boom'); }) as unknown as Handle;
      const a = await ctx.client.send('GET', '/throws');
      t.equal(a.status, 500);
      t.equal(a.headers['content-type'], 'application/json');
      t.same(JSON.parse((await readAll(a.body)).toString()), expected);
      ctx.handle = async () => { throw new Error('async boom'); };
      const b = await ctx.client.send('GET', '/rejects');
      t.equal(b.status, 500);
      t.same(JSON.parse((await readAll(b.body)).toString()), expected);
      // A stream that fails before its first chunk still gets a proper 500.
      ctx.handle = async () => ({ status: 200, headers: {}, body: (async function* () { throw new Error('stream boom'); })() });
      const c = await ctx.client.send('GET', '/stream-throws');
      t.equal(c.status, 500);
      t.same(JSON.parse((await readAll(c.body)).toString()), expected);
      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('ok') });
      const d = await ctx.client.send('GET', '/fine');
      t.equal((await readAll(d.body)).toString(), 'ok');
    },
  },
  {
    name: 'a stream that fails mid-body cuts the response; the server survives',
    async run(t, ctx) {
      ctx.handle = async () => ({ status: 200, headers: {}, body: (async function* () { yield Buffer.from('partial'); await sleep(20); throw new Error('mid boom'); })() });
      const res = await ctx.client.send('GET', '/mid-fail');
      const err = await readAll(res.body).then(() => undefined, (e: unknown) => e);
      t.ok(err, 'the client sees an incomplete body');
      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('ok') });
      const d = await within(ctx.client.send('GET', '/fine'), 3000, 'request after failure');
      t.equal((await readAll(d.body)).toString(), 'ok');
    },
  },
];

for (const transport of transports) {
  t.test(transport.name, async (t) => {
    const ctx = { handle: undefined as unknown as Handle, transport: transport.name } as Ctx;
    const { client, server } = await transport.start((req) => ctx.handle(req));
    ctx.client = client;
    t.teardown(async () => {
      client.close();
      await server.close();
    });
    if (transport.name.includes('ALPN')) {
      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('h1') });
      const res = await client.send('GET', '/alpn');
      await readAll(res.body);
      t.equal(res.httpVersion, '1.1', 'HTTP/1.1 on the TLS port');
      t.not(res.alpn, 'h2', 'no h2 negotiated');
    }
    if (transport.name.includes('(h2)')) {
      ctx.handle = async () => ({ status: 200, headers: {}, body: Buffer.from('h2') });
      const res = await client.send('GET', '/alpn');
      await readAll(res.body);
      t.equal(res.alpn, 'h2', 'h2 negotiated through ALPN');
    }
    for (const c of CASES) {
      await t.test(c.name, (t) => within(c.run(t, ctx), 20_000, c.name));
    }
  });
}
