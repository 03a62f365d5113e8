/**
 * One API under test: a real database (a fresh SQLite file or PostgreSQL database per subtest),
 * the RecordingRuntime in place of the origin, a manual clock shared by both, the log lines
 * captured, and the first admin token made by ensureAdminToken as the origin does at start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { pino } from 'pino';
import { createApiServer, ensureAdminToken, type ApiServer } from '../../../src/api/index.js';
import type { ServerKeys } from '../../../src/control/server-secret.js';
import { SealedText } from '../../../src/control/sealed-text.js';
import { KeyedHash, openDatabase, type ApiScope, type Database } from '../../../src/db/index.js';
import { RecordingRuntime } from './recording-runtime.js';
import { Readiness } from '../../../src/ops/readiness.js';
import type { ViewerEventSink } from '../../../src/analytics/viewer-events.js';

export interface ApiTarget {
  kind: 'sqlite' | 'postgres';
  /** The URL of a new, empty database. */
  freshUrl(): Promise<string>;
}

export const T0 = Date.UTC(2026, 10, 25, 12);

export const testKeys = (): ServerKeys => ({
  streamKeys: new KeyedHash('a-server-key-of-at-least-16-bytes', 'stream-key'),
  apiTokens: new KeyedHash('a-server-key-of-at-least-16-bytes', 'api-token'),
  playbackTokens: Buffer.alloc(32, 1),
  restreamUrls: new SealedText(Buffer.alloc(32, 2)),
  publishTokens: Buffer.alloc(32, 3),
});

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The parsed JSON body (undefined when empty or not JSON). */
  json: any;
  body: string;
  raw: Buffer;
}

export interface RequestOptions {
  /** Bearer token; default the admin token; null sends none. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

export class Harness {
  now = T0;
  readonly clock = () => this.now;
  readonly logs: Record<string, unknown>[] = [];
  readonly printed: string[] = [];
  redelivered = 0;
  readonly keys = testKeys();
  db!: Database;
  server!: ApiServer;
  runtime!: RecordingRuntime;
  adminToken!: string;
  url!: string;

  static async open(t: Test, target: ApiTarget, o: { maxFailedAuthPerMinute?: number; viewers?: ViewerEventSink } = {}): Promise<Harness> {
    const h = new Harness();
    const dir = mkdtempSync(join(tmpdir(), 'sigma-api-'));
    h.url = await target.freshUrl();
    h.db = await openDatabase(h.url, { clock: h.clock });
    h.runtime = new RecordingRuntime(join(dir, 'recordings'), h.clock);
    const logger = pino({ level: 'debug' }, new Writable({
      write(chunk, _enc, done) { h.logs.push(JSON.parse(String(chunk))); done(); },
    }));
    await ensureAdminToken({ db: h.db, keys: h.keys, logger, print: (line) => h.printed.push(line) });
    h.adminToken = h.printed.map((l) => l.trim()).find((l) => l.startsWith('sgl_'))!;
    h.server = createApiServer({
      db: h.db, runtime: h.runtime, keys: h.keys, logger, maxFailedAuthPerMinute: o.maxFailedAuthPerMinute ?? 1000,
      now: h.clock, onRedeliver: () => { h.redelivered++; }, transcodeLadders: { studio: ['720p', '360p'] },
      // No checks: always ready, so /healthz and /readyz are in the OpenAPI document and the public-route tests.
      readiness: new Readiness({ checks: [], logger }),
      viewers: o.viewers,
    });
    t.teardown(async () => {
      await h.server.close();
      await h.db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return h;
  }

  async request(method: string, url: string, o: RequestOptions = {}): Promise<Reply> {
    const token = o.token === undefined ? this.adminToken : o.token;
    const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...o.headers };
    const r = await this.server.app.inject({
      method: method as 'GET', url, headers, remoteAddress: o.remoteAddress,
      ...(o.body === undefined ? {} : typeof o.body === 'string' ? { payload: o.body } : { payload: o.body as object }),
    });
    let json: unknown;
    try { json = r.body === '' ? undefined : JSON.parse(r.body); } catch { json = undefined; }
    return { status: r.statusCode, headers: r.headers, json, body: r.body, raw: r.rawPayload };
  }

  get = (url: string, o?: RequestOptions) => this.request('GET', url, o);
  post = (url: string, body?: unknown, o?: RequestOptions) => this.request('POST', url, { ...o, body });
  patch = (url: string, body?: unknown, o?: RequestOptions) => this.request('PATCH', url, { ...o, body });
  delete = (url: string, o?: RequestOptions) => this.request('DELETE', url, o);

  /** A new API token with these scopes, made through the API; returns its secret and id. */
  async token(scopes: ApiScope[], name = scopes.join('+')): Promise<{ secret: string; id: string }> {
    const r = await this.post('/v1/api-tokens', { name, scopes });
    if (r.status !== 201) throw new Error(`creating a token: ${r.status} ${r.body}`);
    return { secret: r.json.secret, id: r.json.id };
  }

  /** A channel made through the API; returns the created answer (with streamKey.secret). */
  async channel(body: Record<string, unknown>): Promise<any> {
    const r = await this.post('/v1/channels', body);
    if (r.status !== 201) throw new Error(`creating a channel: ${r.status} ${r.body}`);
    return r.json;
  }

  /** Every page of a listing, following nextCursor (at most 50 pages). */
  async allPages(url: string): Promise<{ pages: any[][]; items: any[] }> {
    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const r: Reply = await this.get(cursor === null ? url : `${url}${sep}cursor=${encodeURIComponent(cursor)}`);
      if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.body}`);
      pages.push(r.json.items);
      cursor = r.json.nextCursor;
    } while (cursor !== null && pages.length < 50);
    return { pages, items: pages.flat() };
  }
}

/** Checks an error answer: status, JSON envelope, code. */
export function isError(t: Test, r: Reply, status: number, code: string, what?: string): void {
  t.equal(r.status, status, `${what ?? code}: status ${status}`);
  t.equal(r.json?.error?.code, code, `${what ?? code}: code ${code} (${r.body.slice(0, 200)})`);
  t.type(r.json?.error?.message, 'string', 'with a message');
  t.notMatch(r.body, /\bat .+\.(js|ts):\d+/, 'no stack trace');
}
