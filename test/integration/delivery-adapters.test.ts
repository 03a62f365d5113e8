/**
 * The real OriginHandler behind every adapter (no channels configured): the same answers for
 * health, unknown channels, CORS preflight, HEAD, Date and Expires whether served by uWS,
 * node:http, h2 or h2c.
 */
import t from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OriginHandler } from '../../src/delivery/handler.js';
import { Http2CleartextServer, Http2Server } from '../../src/delivery/http2/http2-server.js';
import { NodeHttpServer } from '../../src/delivery/node-http/node-http-server.js';
import type { Handle, HttpServerAdapter } from '../../src/delivery/server.js';
import { UwsServer } from '../../src/delivery/uws/uws-server.js';
import { silentLogger } from '../../src/log.js';

interface Res { status: number; headers: Record<string, unknown>; body: string }
type Get = (method: string, path: string) => Promise<Res>;

const logger = silentLogger();
const handler = new OriginHandler({ get: () => undefined }, logger);
const handle: Handle = (req) => handler.handle(req);
const dataDir = mkdtempSync(join(tmpdir(), 'sigma-delivery-'));

function http1(port: number): Get {
  return (method, path) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2(url: string, ca?: string): { get: Get; close(): void } {
  const session = http2.connect(url, ca ? { ca } : {});
  return {
    get: (method, path) => new Promise((resolve, reject) => {
      const s = session.request({ ':method': method, ':path': path });
      let status = 0;
      let headers: Record<string, unknown> = {};
      let body = '';
      s.on('response', (h) => { status = Number(h[':status']); headers = h; });
      s.on('data', (d) => { body += d; });
      s.on('end', () => resolve({ status, headers, body }));
      s.on('error', reject);
      s.end();
    }),
    close: () => session.close(),
  };
}

const setups: { name: string; start(): Promise<{ server: HttpServerAdapter; get: Get; done(): void }> }[] = [
  { name: 'uws', async start() { const server = new UwsServer({ host: '127.0.0.1', port: 0, handle, logger }); return { server, get: http1(await server.listen()), done: () => undefined }; } },
  { name: 'node:http', async start() { const server = new NodeHttpServer({ host: '127.0.0.1', port: 0, handle, logger }); return { server, get: http1(await server.listen()), done: () => undefined }; } },
  {
    name: 'h2 (TLS)',
    async start() {
      const server = new Http2Server({ host: '127.0.0.1', port: 0, handle, logger, dataDir });
      const c = h2(`https://localhost:${await server.listen()}`, server.certificatePem);
      return { server, get: c.get, done: c.close };
    },
  },
  {
    name: 'h2c',
    async start() {
      const server = new Http2CleartextServer({ host: '127.0.0.1', port: 0, handle, logger });
      const c = h2(`http://127.0.0.1:${await server.listen()}`);
      return { server, get: c.get, done: c.close };
    },
  },
];

for (const s of setups) {
  t.test(s.name, async (t) => {
    const { server, get, done } = await s.start();
    t.teardown(async () => { done(); await server.close(); });

    const health = await get('GET', '/healthz');
    t.equal(health.status, 200);
    t.same(JSON.parse(health.body), { status: 'ok' });
    t.equal(health.headers['access-control-allow-origin'], '*');
    t.equal(health.headers.expires, undefined, 'no Expires on a no-store reply');

    const missing = await get('GET', '/live/nope/index.m3u8?_HLS_msn=1');
    t.equal(missing.status, 404);
    t.equal(JSON.parse(missing.body).error.code, 'CHANNEL_NOT_FOUND');
    t.equal(missing.headers['cache-control'], 'public, max-age=2');
    // uWS dates the reply itself, possibly a second away from the handler's clock.
    const lifetimeMs = Date.parse(String(missing.headers.expires)) - Date.parse(String(missing.headers.date));
    t.ok(s.name === 'uws' ? Math.abs(lifetimeMs - 2000) <= 1000 : lifetimeMs === 2000, `Expires = Date + max-age (${lifetimeMs} ms)`);

    const preflight = await get('OPTIONS', '/live/nope/index.m3u8');
    t.equal(preflight.status, 204);
    t.equal(preflight.body, '');
    t.match(String(preflight.headers['access-control-allow-methods']), /HEAD/);

    const head = await get('HEAD', '/healthz');
    t.equal(head.status, 200);
    t.equal(head.body, '');
    t.equal(head.headers['content-length'], String(Buffer.byteLength(health.body)));

    const post = await get('POST', '/healthz');
    t.equal(post.status, 405);
  });
}
