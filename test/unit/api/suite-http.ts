/** HTTP edges (404, 413, 415, bad JSON, 500), a real socket, and the OpenAPI document against Fastify's routes. */
import type { Test } from 'tap';
import { createHash } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Harness, isError, type ApiTarget } from './api-harness.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'] as const;

export function httpSuite(t: Test, target: ApiTarget): void {
  t.test('the console: its files with no token, revalidated, under a CSP that allows only its own import map', async (t) => {
    const h = await Harness.open(t, target);
    const bare = await h.get('/console', { token: null });
    t.equal(bare.status, 301);
    t.equal(bare.headers.location, '/console/');
    const index = await h.get('/console/', { token: null });
    t.equal(index.status, 200, 'the page needs no token (the API calls it makes do)');
    t.match(index.headers['content-type'], /^text\/html/);
    t.equal(index.headers['cache-control'], 'no-cache', 'revalidated on reload: a new build shows at once');
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(index.body)![1];
    const csp = String(index.headers['content-security-policy']);
    t.ok(csp.includes(`script-src 'self' 'sha256-${createHash('sha256').update(map).digest('base64')}'`), 'scripts: this origin and the import map by its hash');
    t.match(csp, /frame-ancestors 'none'/);
    for (const target of Object.values(JSON.parse(map).imports) as string[]) {
      const r = await h.get(`/console/${target.replace('./', '')}`, { token: null });
      t.equal(r.status, 200, `${target} is served`);
      t.match(r.headers['content-type'], /javascript/);
    }
    const main = await h.get('/console/main.js', { token: null });
    t.equal(main.status, 200, 'the compiled console');
    t.equal((await h.get('/console/main.js', { token: null, headers: { 'if-none-match': String(main.headers.etag) } })).status, 304, 'ETag revalidation');
    isError(t, await h.get('/console/nothing.js', { token: null }), 404, 'ROUTE_NOT_FOUND', 'a file the console does not have');
    isError(t, await h.get('/console/../package.json', { token: null }), 404, 'ROUTE_NOT_FOUND', 'nothing outside the console');
    isError(t, await h.get('/console/%2e%2e/package.json', { token: null }), 404, 'ROUTE_NOT_FOUND', 'nor encoded');
    t.equal((await h.get('/console/a/b/c.js', { token: null })).status, 404, 'two folders deep: nothing there');
  });

  t.test('unknown routes, bodies too big, not JSON, bad JSON, failures: all JSON errors, no stack', async (t) => {
    const h = await Harness.open(t, target);
    isError(t, await h.get('/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
    isError(t, await h.get('/'), 404, 'ROUTE_NOT_FOUND');
    isError(t, await h.request('PUT', '/v1/channels'), 404, 'ROUTE_NOT_FOUND', 'a method the path does not have');
    isError(t, await h.post('/v1/channels', { name: 'x'.repeat(70_000) }), 413, 'BODY_TOO_LARGE');
    isError(t, await h.post('/v1/channels', 'name=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415,
      'UNSUPPORTED_MEDIA_TYPE');
    isError(t, await h.post('/v1/channels', 'hello', { headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    isError(t, await h.post('/v1/channels', '{"name": "x",', { headers: { 'content-type': 'application/json' } }), 400, 'INVALID_JSON');
    isError(t, await h.post('/v1/channels', '{"name": "x", "__proto__": {"admin": true}}', { headers: { 'content-type': 'application/json' } }),
      400, 'INVALID_JSON', 'prototype poisoning is refused');
    isError(t, await h.post('/v1/channels', '', { headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED',
      'an empty body where one is needed');
    isError(t, await h.get(`/v1/channels/${'x'.repeat(300)}`), 400, 'VALIDATION_FAILED', 'an id too long');

    await h.channel({ id: 'news', name: 'News' });
    h.runtime.sessions = async () => { throw new Error('connect ECONNREFUSED password=hunter2'); };
    const failed = await h.get('/v1/channels/news/sessions');
    isError(t, failed, 500, 'INTERNAL', 'a failure inside');
    t.notOk(failed.body.includes('hunter2') || failed.body.includes('ECONNREFUSED'), 'nothing of it in the answer');
    t.match(h.logs.find((l) => l.msg === 'API request failed'), { err: { message: /hunter2/ } }, 'all of it in the log');
    for (const r of [await h.get('/v1/channels'), failed]) t.match(r.headers['content-type'], /^application\/json/);
  });

  t.test('a real socket: listen on a free port, answer, close', async (t) => {
    const h = await Harness.open(t, target);
    const port = await h.server.listen('127.0.0.1', 0);
    t.ok(port > 0, 'a port was picked');
    const res = await fetch(`http://127.0.0.1:${port}/v1/channels`, { headers: { authorization: `Bearer ${h.adminToken}` }, signal: AbortSignal.timeout(5000) });
    t.equal(res.status, 200);
    t.same(await res.json(), { items: [], nextCursor: null });
    const denied = await fetch(`http://127.0.0.1:${port}/v1/channels`, { signal: AbortSignal.timeout(5000) });
    t.equal(denied.status, 401);
    await h.server.close();
    await t.rejects(fetch(`http://127.0.0.1:${port}/v1/channels`, { signal: AbortSignal.timeout(5000) }), 'closed');
  });

  t.test('the OpenAPI document is valid OpenAPI 3 and lists exactly the routes Fastify serves, with their scopes', async (t) => {
    const h = await Harness.open(t, target);
    const served: { method: string; url: string; access?: string }[] = [];
    // Before the first request the routes are not registered yet: Fastify announces each here.
    h.server.app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) served.push({ method: m.toLowerCase(), url: r.url, access: r.config?.access });
    });
    const r = await h.get('/v1/openapi.json', { token: null });
    t.equal(r.status, 200);
    const doc = r.json;

    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    t.ok(result.valid, `valid OpenAPI ${validator.version}: ${JSON.stringify(result.errors)?.slice(0, 500)}`);
    const broken = structuredClone(doc);
    broken.paths['/v1/channels'].get.responses = 'none';
    t.notOk((await new Validator().validate(broken)).valid, 'the validator does reject a broken document');

    const documented: { method: string; url: string; op: any }[] = [];
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const m of METHODS) if (ops[m]) documented.push({ method: m, url: path.replace(/\{(\w+)\}/g, ':$1'), op: ops[m] });
    }
    const key = (x: { method: string; url: string }) => `${x.method.toUpperCase()} ${x.url}`;
    t.ok(served.length >= 30, `Fastify announced the routes (${served.length})`);
    t.same(documented.map(key).sort(), served.map(key).sort(), 'every served route is documented, and every documented one served');
    for (const d of documented) {
      t.ok(h.server.app.hasRoute({ method: d.method.toUpperCase() as 'GET', url: d.url }), `Fastify has ${key(d)}`);
      const access = served.find((s) => key(s) === key(d))?.access;
      if (access === 'public') t.same(d.op.security, [], `${key(d)} is public in the document`);
      else t.equal(d.op['x-required-scope'], access, `${key(d)} documents its scope`);
      t.ok(d.op.summary && d.op.tags?.length, `${key(d)} has a summary and a tag`);
      // WHIP's PATCH (trickle ICE) exists to answer 405, as RFC 9725 asks of a server without it.
      const refusedByDesign = Object.keys(d.op.responses).includes('405');
      // /console answers a redirect to /console/ (relative URLs of the page resolve from there).
        t.ok(Object.keys(d.op.responses).some((s) => s.startsWith('2') || s.startsWith('3')) || refusedByDesign, `${key(d)} documents its success (or its 405)`);
    }
  });

  t.test('every documented route refuses a request without a token (401) and one without its scope (403)', async (t) => {
    const h = await Harness.open(t, target);
    const read = (await h.token(['read'])).secret;
    const doc = (await h.get('/v1/openapi.json', { token: null })).json;
    let checked = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      const url = path.replace(/\{\w+\}/g, 'x');
      for (const m of METHODS) {
        const op = ops[m];
        if (!op) continue;
        const body = op.requestBody ? {} : undefined;
        if (op.security?.length === 0) {
          // Public: no token needed. A body-less request to one that takes a body is merely invalid.
          const status = (await h.request(m, url, { token: null })).status;
          // WHIP's own answers to an empty request: no SDP (415), no trickle ICE (405), no such session (404).
          const whip = ({ 'post /v1/whip/{channel}': 415, 'patch /v1/whip/{channel}/sessions/{session}': 405, 'delete /v1/whip/{channel}/sessions/{session}': 404 } as Record<string, number>)[`${m} ${path}`];
          if (whip) t.equal(status, whip, `${m} ${path} is public (${status}, WHIP's answer to an empty request)`);
          else if (op.requestBody) t.equal(status, 400, `${m} ${path} is public (an empty body is invalid, not unauthorized)`);
          // The console: a redirect, and files by name (the placeholder 'x' names none: 404, not 401).
          else if (path.startsWith('/console')) t.ok(status === 301 || status === 200 || status === 404, `${m} ${path} is public (${status})`);
          else t.ok(status === 200 || status === 204, `${m} ${path} is public (${status})`);
          continue;
        }
        isError(t, await h.request(m, url, { token: null, body }), 401, 'UNAUTHORIZED', `${m} ${path} without a token`);
        t.ok(op.responses['401'], `${m} ${path} documents 401`);
        if (op['x-required-scope'] !== 'read') {
          isError(t, await h.request(m, url, { token: read, body }), 403, 'FORBIDDEN', `${m} ${path} with a read token`);
          t.ok(op.responses['403'], `${m} ${path} documents 403`);
        } else {
          t.notOk([401, 403].includes((await h.request(m, url, { token: read })).status), `${m} ${path} lets a read token in`);
        }
        checked++;
      }
    }
    t.ok(checked >= 30, `${checked} routes checked`);
  });
}
