/**
 * The TLS side of the HTTP/2 adapter: the development certificate (generated once under
 * <dataDir>/tls/, reused on the next start, announced as self-signed in the log) and configured
 * certFile/keyFile; plus close() of every adapter while a client still holds a keep-alive
 * connection or a request in flight.
 */
import t from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Http2Server } from '../../../src/delivery/http2/http2-server.js';
import { DEV_CERT_FILE, DEV_KEY_FILE } from '../../../src/tls/tls-material.js';
import { NodeHttpServer } from '../../../src/delivery/node-http/node-http-server.js';
import type { Handle, HttpServerAdapter } from '../../../src/delivery/server.js';
import { UwsServer } from '../../../src/delivery/uws/uws-server.js';
import { silentLogger } from '../../../src/log.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const ok: Handle = async (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`ok ${req.path}`) });

function h2get(url: string, ca: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca });
    session.on('error', reject);
    const s = session.request({ ':path': path });
    let status = 0;
    let body = '';
    s.on('response', (h) => { status = Number(h[':status']); });
    s.on('data', (d) => { body += d; });
    s.on('end', () => { session.close(); resolve({ status, body }); });
    s.on('error', reject);
    s.end();
  });
}

t.test('development certificate: generated under <dataDir>/tls, logged as self-signed, reused on restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sigma-tls-'));
  const first = capturingLogger();
  const a = new Http2Server({ host: '127.0.0.1', port: 0, handle: ok, logger: first.logger, dataDir });
  const portA = await a.listen();
  t.ok(a.selfSigned);
  t.ok(existsSync(join(dataDir, 'tls', DEV_CERT_FILE)) && existsSync(join(dataDir, 'tls', DEV_KEY_FILE)), 'stored under <dataDir>/tls');
  t.equal(statSync(join(dataDir, 'tls', DEV_KEY_FILE)).mode & 0o077, 0, 'key readable by the owner only');
  const x509 = new X509Certificate(a.certificatePem);
  t.match(x509.subject, /CN=localhost/);
  t.match(x509.subjectAltName ?? '', /DNS:localhost/);
  t.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  t.ok(first.lines.some((l) => /self-signed/.test(String(l.msg)) && /development only/.test(String(l.msg))), 'log says self-signed, development only');
  // Both names in the SAN verify.
  t.same(await h2get(`https://localhost:${portA}`, a.certificatePem, '/a'), { status: 200, body: 'ok /a' });
  t.same(await h2get(`https://127.0.0.1:${portA}`, a.certificatePem, '/b'), { status: 200, body: 'ok /b' });
  await a.close();

  const second = capturingLogger();
  const b = new Http2Server({ host: '127.0.0.1', port: 0, handle: ok, logger: second.logger, dataDir });
  const portB = await b.listen();
  t.equal(b.certificatePem, a.certificatePem, 'the same certificate on the next start');
  t.ok(second.lines.some((l) => /self-signed/.test(String(l.msg))), 'still logged as self-signed');
  t.notOk(second.lines.some((l) => /generated/.test(String(l.msg))), 'not generated again');
  t.same(await h2get(`https://localhost:${portB}`, a.certificatePem, '/c'), { status: 200, body: 'ok /c' });
  await b.close();
});

t.test('certFile/keyFile from config are used as given', async (t) => {
  const devDir = mkdtempSync(join(tmpdir(), 'sigma-tls-'));
  const gen = new Http2Server({ host: '127.0.0.1', port: 0, handle: ok, logger: silentLogger(), dataDir: devDir });
  await gen.listen();
  const pem = gen.certificatePem;
  await gen.close();
  const otherDir = mkdtempSync(join(tmpdir(), 'sigma-tls-'));
  const s = new Http2Server({
    host: '127.0.0.1', port: 0, handle: ok, logger: silentLogger(), dataDir: otherDir,
    certFile: join(devDir, 'tls', DEV_CERT_FILE), keyFile: join(devDir, 'tls', DEV_KEY_FILE),
  });
  const port = await s.listen();
  t.notOk(s.selfSigned, 'configured, not generated');
  t.equal(s.certificatePem, pem);
  t.notOk(existsSync(join(otherDir, 'tls')), 'nothing generated');
  t.same(await h2get(`https://localhost:${port}`, pem, '/x'), { status: 200, body: 'ok /x' });
  await s.close();
});

const adapters: { name: string; make(handle: Handle): HttpServerAdapter }[] = [
  { name: 'uws', make: (handle) => new UwsServer({ host: '127.0.0.1', port: 0, handle, logger: silentLogger(), closeGraceMs: 300 }) },
  { name: 'node:http', make: (handle) => new NodeHttpServer({ host: '127.0.0.1', port: 0, handle, logger: silentLogger(), closeGraceMs: 300 }) },
];

for (const a of adapters) {
  t.test(`${a.name}: close() with an idle keep-alive connection and a request in flight`, async (t) => {
    let aborted = false;
    const server = a.make(async (req) => {
      if (req.path === '/hang') {
        await new Promise((r) => { req.signal.addEventListener('abort', () => r(undefined)); setTimeout(r, 10_000).unref(); });
        aborted = req.signal.aborted;
        return { status: 200, headers: {}, body: Buffer.from('late') };
      }
      return { status: 200, headers: {}, body: Buffer.from('x') };
    });
    const port = await server.listen();
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) => http.get({ port, host: '127.0.0.1', agent, path: '/idle' }, (r) => { r.resume(); r.on('end', resolve); }));
    const hung = new Promise<string>((resolve) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/hang' }, (r) => { r.resume(); r.on('end', () => resolve('completed')); r.on('error', () => resolve('cut')); });
      req.on('error', () => resolve('cut'));
    });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    t.ok(Date.now() - started < 3000, 'close() returns after the grace period');
    t.equal(await hung, 'cut', 'the in-flight request is cut after the grace');
    await new Promise((r) => setTimeout(r, 20));
    t.ok(aborted, 'its signal aborted');
    await server.close();
    t.pass('close() is idempotent');
    agent.destroy();
  });
}
