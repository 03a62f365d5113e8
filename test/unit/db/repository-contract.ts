/**
 * The repository contract: what every database behind src/db must do, run as it is against
 * SQLite (sqlite.test.ts) and a real PostgreSQL server (postgres.test.ts). Each subtest gets a
 * fresh database and a clock it moves by hand.
 */
import type { Test } from 'tap';
import {
  createDriver, ForeignKeyViolationError, InvalidCursorError, KeyedHash, openDatabase, recordEvent, SchemaTooNewError, UniqueViolationError,
  MIGRATIONS, type Database, type Page, type PageRequest, type StoredEvent,
} from '../../../src/db/index.js';
import { migrate } from '../../../src/db/migrations/migrator.js';
import type { Migration } from '../../../src/db/migrations/index.js';
import type { AnalyticsMinute } from '../../../src/db/types.js';
import { emptyMinute } from '../../../src/analytics/minute-aggregator.js';

export interface ContractTarget {
  kind: 'sqlite' | 'postgres';
  /** The URL of a new, empty database. */
  freshUrl(): Promise<string>;
}

const T0 = Date.UTC(2026, 10, 25, 12);
const streamKeys = new KeyedHash('a-server-key-of-at-least-16-bytes', 'stream-key');
const apiTokens = new KeyedHash('a-server-key-of-at-least-16-bytes', 'api-token');

/** A clock the test moves; every database opened by `open` reads it. */
class ManualClock {
  now = T0;
  readonly read = () => this.now;
  advance(ms: number): number { this.now += ms; return this.now; }
}

/** Every page of a listing, following the cursors. */
async function allPages<T>(list: (page: PageRequest) => Promise<Page<T>>, limit: number): Promise<{ pages: T[][]; items: T[] }> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list({ limit, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return { pages, items: pages.flat() };
}

export function repositoryContract(t: Test, target: ContractTarget): void {
  /** Opens a fresh database (or `url`, as a restarted process) for one subtest; closed at the subtest's end. */
  const setup = async (t: Test, url?: string, clock = new ManualClock()) => {
    const dbUrl = url ?? await target.freshUrl();
    const opened: Database[] = [];
    const open = async () => {
      const db = await openDatabase(dbUrl, { clock: clock.read });
      opened.push(db);
      return db;
    };
    t.teardown(() => Promise.all(opened.map((d) => d.close())).then(() => undefined));
    return { url: dbUrl, clock, open, db: await open() };
  };

  t.test('migrations: applied once, recorded, idempotent across opens; a failing one leaves nothing', async (t) => {
    const url = await target.freshUrl();
    const driver = await createDriver(url);
    t.teardown(() => driver.close());
    const all = MIGRATIONS.map((m) => m.version), latest = all[all.length - 1];
    t.same(await migrate(driver), { applied: all, version: latest }, 'a new database gets every migration');
    t.same(await migrate(driver), { applied: [], version: latest }, 'a second run does nothing');
    const db = await openDatabase(url);
    t.same(await db.migrate(), { applied: [], version: latest }, 'another process opening it does nothing either');
    await db.close();
    t.same((await driver.query('SELECT version, name FROM schema_migrations')).map((r) => ({ ...r, version: Number(r.version) })),
      MIGRATIONS.map(({ version, name }) => ({ version, name })));

    const broken: Migration = { version: latest + 1, name: 'broken', statements: () => ['CREATE TABLE half_done (id TEXT)', 'CREATE TABLE nonsense ('] };
    await t.rejects(migrate(driver, [...MIGRATIONS, broken]), 'a migration with a bad statement fails');
    t.same(await migrate(driver), { applied: [], version: latest }, 'and left the version where it was');
    await t.rejects(driver.query('SELECT * FROM half_done'), 'its first statement was rolled back with it');

    const next: Migration = { version: latest + 1, name: 'notes', statements: (d) => [`CREATE TABLE notes (id TEXT PRIMARY KEY, at ${d.bigint})`] };
    t.same(await migrate(driver, [...MIGRATIONS, next]), { applied: [latest + 1], version: latest + 1 });
    await driver.run('INSERT INTO notes (id, at) VALUES ($1, $2)', ['n', T0]);
    await t.rejects(openDatabase(url), SchemaTooNewError, 'a build that knows fewer migrations refuses the newer schema');
  });

  t.test('ping: answers while the database is open, rejects once it is closed', async (t) => {
    const { db } = await setup(t);
    await t.resolves(db.ping());
    await db.close();
    await t.rejects(db.ping(), 'a closed database does not answer');
  });

  t.test('channels: create with defaults, get, update, delete, unique id', async (t) => {
    const { db, clock } = await setup(t);
    const c = await db.channels.create({ id: 'news', name: 'News' });
    t.same(c, {
      id: 'news', name: 'News', latencyMode: 'ultra-low', transcodeProfile: null, dvrWindowSec: null, record: false,
      retentionHours: null, autoStart: false, ipAllowList: [], playbackTokenPolicy: 'none', failover: null, srtPassphrase: null, createdAt: T0, updatedAt: T0,
    });
    const full = await db.channels.create({
      id: 'sport', name: 'Sport ⚽', latencyMode: 'low', transcodeProfile: { ladder: [{ height: 720, kbps: 3000 }, { height: 360, kbps: 800 }] },
      dvrWindowSec: 3600, record: true, retentionHours: 1.5, autoStart: true, ipAllowList: ['10.0.0.0/8', '2001:db8::/32'],
      playbackTokenPolicy: 'required', failover: { stallMs: 500, failback: 'manual', slate: 'card' },
    });
    t.same(await db.channels.get('sport'), full, 'every field reads back as written');
    t.equal(await db.channels.get('nope'), undefined);

    clock.advance(5000);
    const updated = await db.channels.update('news', { name: 'World news', record: true, dvrWindowSec: 0, transcodeProfile: { ladder: [] },
      ...({ id: 'hijack', createdAt: 1 } as object) });
    t.match(updated, { id: 'news', name: 'World news', record: true, dvrWindowSec: 0, transcodeProfile: { ladder: [] }, createdAt: T0, updatedAt: T0 + 5000 },
      'the given fields and updatedAt change; id and createdAt cannot');
    t.same(await db.channels.get('news'), updated);
    t.same((await db.channels.update('news', { transcodeProfile: null }))?.transcodeProfile, null, 'a field can be set back to null');
    t.same((await db.channels.update('news', { failover: { slate: 'off' } }))?.failover, { slate: 'off' }, 'failover settings are stored');
    t.equal((await db.channels.update('news', { srtPassphrase: 'passphrase-0123' }))?.srtPassphrase, 'passphrase-0123', 'an SRT passphrase is stored');
    t.same((await db.channels.update('news', { failover: null }))?.failover, null, 'and cleared back to the defaults');
    t.equal(await db.channels.update('nope', { name: 'x' }), undefined);

    const target = await db.restreamTargets.create({ channelId: 'news', name: 'YouTube', sealedUrl: 'v1.sealed', urlHint: 'rtmp://h/app/…abcd', rendition: 'source', enabled: true });
    t.match(target, { id: /^rs_/, channelId: 'news', name: 'YouTube', sealedUrl: 'v1.sealed', enabled: true, createdAt: T0 + 5000 });
    clock.advance(1); // creation order is the creation time's (the ids break ties within a millisecond, at random)
    const second = await db.restreamTargets.create({ channelId: 'news', name: 'Twitch', sealedUrl: 'v1.other', urlHint: 'x', rendition: '480p', enabled: false });
    t.same((await db.restreamTargets.listForChannel('news')).map((x) => x.name), ['YouTube', 'Twitch'], 'restream targets in creation order');
    t.same(await db.restreamTargets.listForChannel('sport'), [], 'per channel');
    t.match(await db.restreamTargets.update(second.id, { enabled: true, sealedUrl: 'v1.new' }), { enabled: true, sealedUrl: 'v1.new', rendition: '480p' });
    t.equal(await db.restreamTargets.delete(target.id), true);
    t.equal(await db.restreamTargets.get(target.id), undefined);

    const dup = await db.channels.create({ id: 'news', name: 'again' }).catch((e: unknown) => e);
    t.type(dup, UniqueViolationError, 'a second channel with the same id is a UniqueViolationError');
    t.match(dup, { kind: 'unique', table: 'channels' });

    t.equal(await db.channels.delete('news'), true);
    t.same(await db.restreamTargets.listForChannel('news'), [], 'a deleted channel takes its restream targets with it');
    t.equal(await db.channels.delete('news'), false);
    t.equal(await db.channels.get('news'), undefined);
  });

  t.test('placements: one holder per channel; renewed by it, taken over only once expired; released by its holder', async (t) => {
    const { db } = await setup(t);
    const lease = (originId: string, expiresAt: number) => ({ channelId: 'news', originId, originUrl: `http://${originId}:8080`, expiresAt });
    t.same(await db.placements.claim(lease('a', 10_000), 1000), lease('a', 10_000), 'a free channel goes to the first claimant');
    t.same(await db.placements.claim(lease('b', 11_000), 2000), lease('a', 10_000), 'another origin cannot take an unexpired lease');
    t.same(await db.placements.claim(lease('a', 12_000), 3000), lease('a', 12_000), 'the holder renews it');
    t.same(await db.placements.claim(lease('b', 20_000), 12_000), lease('b', 20_000), 'once expired, another origin takes it');
    t.notOk(await db.placements.release('news', 'a'), 'a former holder cannot release it');
    t.same(await db.placements.list(), [lease('b', 20_000)]);
    t.ok(await db.placements.release('news', 'b'), 'the holder releases it');
    t.equal(await db.placements.get('news'), undefined);
  });

  t.test('channels: keyset pages by id, stable across inserts; a forged cursor is refused', async (t) => {
    const { db } = await setup(t);
    const ids = ['c07', 'c01', 'c05', 'c03', 'c02', 'c06', 'c04'];
    for (const id of ids) await db.channels.create({ id, name: id });
    const { pages, items } = await allPages((p) => db.channels.list(p), 3);
    t.same(pages.map((p) => p.length), [3, 3, 1]);
    t.same(items.map((c) => c.id), [...ids].sort());
    const first = await db.channels.list({ limit: 2 });
    await db.channels.create({ id: 'c00', name: 'inserted before the cursor' });
    t.same((await db.channels.list({ limit: 2, cursor: first.nextCursor })).items.map((c) => c.id), ['c03', 'c04'],
      'a row added before the cursor does not shift the next page');
    t.same((await db.channels.list({ limit: 1000 })).items.length, 8, 'the limit is capped, not refused');
    await t.rejects(db.channels.list({ cursor: 'bm9wZQ' }), InvalidCursorError);
    await t.rejects(db.channels.list({ cursor: Buffer.from('["a",1]').toString('base64url') }), InvalidCursorError);
  });

  t.test('stream keys: publish lookup by keyed hash, several per channel, rotate, revoke, cascade', async (t) => {
    const { db, clock } = await setup(t);
    await db.channels.create({ id: 'news', name: 'News' });
    const secret = 'sk_live_0123456789abcdef';
    const k1 = await db.streamKeys.create({ channelId: 'news', keyHash: streamKeys.digest(secret), hint: secret.slice(-4), name: 'main' });
    const k2 = await db.streamKeys.create({ channelId: 'news', keyHash: streamKeys.digest('backup-encoder-key'), hint: '-key' });
    t.match(k1, { channelId: 'news', hint: 'cdef', name: 'main', createdAt: T0, lastUsedAt: null, revokedAt: null });
    t.notMatch(JSON.stringify(k1), secret, 'the secret is not stored');

    const found = await db.streamKeys.findActiveByHash(streamKeys.digest(secret));
    t.equal(found?.id, k1.id, 'what the RTMP ingest receives finds its key and channel in one lookup');
    t.ok(found && streamKeys.matches(secret, found.keyHash));
    t.equal(await db.streamKeys.findActiveByHash(streamKeys.digest('sk_live_0123456789abcdeX')), undefined);
    t.equal(await db.streamKeys.findActiveByHash(apiTokens.digest(secret)), undefined, 'another purpose gives another digest');

    await t.rejects(db.streamKeys.create({ channelId: 'news', keyHash: k1.keyHash, hint: 'x' }), UniqueViolationError);
    const orphan = await db.streamKeys.create({ channelId: 'nope', keyHash: 'f'.repeat(64), hint: 'x' }).catch((e: unknown) => e);
    t.type(orphan, ForeignKeyViolationError, 'a key for an unknown channel is a ForeignKeyViolationError');

    clock.advance(1000);
    await db.streamKeys.markUsed(k1.id);
    t.equal((await db.streamKeys.get(k1.id))?.lastUsedAt, T0 + 1000);

    clock.advance(1000);
    const k3 = await db.streamKeys.rotate(k1.id, { keyHash: streamKeys.digest('the-new-key-000'), hint: '-000', name: 'main' });
    t.match(k3, { channelId: 'news', name: 'main', revokedAt: null, createdAt: T0 + 2000 });
    t.equal((await db.streamKeys.get(k1.id))?.revokedAt, T0 + 2000, 'rotating revokes the old key');
    t.equal(await db.streamKeys.findActiveByHash(streamKeys.digest(secret)), undefined, 'so it no longer publishes');
    t.equal(await db.streamKeys.rotate(k1.id, { keyHash: 'a'.repeat(64), hint: 'x' }), undefined, 'a revoked key cannot be rotated');
    await t.rejects(db.streamKeys.rotate(k2.id, { keyHash: k3!.keyHash, hint: 'x' }), UniqueViolationError);
    t.equal((await db.streamKeys.get(k2.id))?.revokedAt, null, 'a failed rotation leaves the old key active (one transaction)');

    t.equal(await db.streamKeys.revoke(k2.id), true);
    t.equal(await db.streamKeys.revoke(k2.id), false, 'revoking twice says so');
    t.equal(await db.streamKeys.revoke('sk_nope'), false);

    const listed = await allPages((p) => db.streamKeys.listForChannel('news', p), 2);
    const byAge = [k1, k2, k3!].sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
    t.same(listed.items.map((k) => k.id), byAge.map((k) => k.id), 'revoked keys are listed too, oldest first (ties by id)');
    t.same((await db.streamKeys.listForChannel('other')).items, []);

    await db.channels.delete('news');
    t.equal(await db.streamKeys.get(k3!.id), undefined, 'deleting the channel deletes its keys');
  });

  t.test('stream keys: two rotations of one key at once make one replacement', async (t) => {
    const { db, open } = await setup(t);
    const other = await open(); // on PostgreSQL another pool: the two rotations really overlap
    await db.channels.create({ id: 'news', name: 'News' });
    for (let round = 0; round < 5; round++) {
      const key = await db.streamKeys.create({ channelId: 'news', keyHash: streamKeys.digest(`old-${round}`), hint: 'old' });
      const results = await Promise.all([
        db.streamKeys.rotate(key.id, { keyHash: streamKeys.digest(`a-${round}`), hint: 'a' }),
        other.streamKeys.rotate(key.id, { keyHash: streamKeys.digest(`b-${round}`), hint: 'b' }),
      ]);
      t.equal(results.filter((r) => r !== undefined).length, 1, `round ${round}: one rotation wins, the other returns undefined`);
    }
    const active = (await db.streamKeys.listForChannel('news', { limit: 100 })).items.filter((k) => k.revokedAt === null);
    t.equal(active.length, 5, 'one live replacement per rotated key');
  });

  t.test('API tokens: stored hashed with scopes; lookup, last used, revoke, count, pages', async (t) => {
    const { db, clock } = await setup(t);
    t.equal(await db.apiTokens.countActive(), 0, 'no token yet: the first start prints an admin token');
    const admin = await db.apiTokens.create({ name: 'first admin', secretHash: apiTokens.digest('sigma_admin_secret'), scopes: ['admin'] });
    const made = [admin];
    for (let i = 0; i < 4; i++) {
      clock.advance(10);
      made.push(await db.apiTokens.create({ name: `ci ${i}`, secretHash: apiTokens.digest(`sigma_ci_${i}`), scopes: ['read', 'write'] }));
    }
    t.match(admin, { name: 'first admin', scopes: ['admin'], createdAt: T0, lastUsedAt: null, revokedAt: null });
    t.same(await db.apiTokens.findActiveByHash(apiTokens.digest('sigma_ci_2')), made[3]);
    t.equal(await db.apiTokens.countActive(), 5);
    await t.rejects(db.apiTokens.create({ name: 'dup', secretHash: admin.secretHash, scopes: ['read'] }), UniqueViolationError);

    clock.advance(60_000);
    await db.apiTokens.markUsed(admin.id);
    t.equal((await db.apiTokens.get(admin.id))?.lastUsedAt, clock.now);
    t.equal(await db.apiTokens.revoke(made[1].id), true);
    t.equal(await db.apiTokens.findActiveByHash(apiTokens.digest('sigma_ci_0')), undefined, 'a revoked token no longer authenticates');
    t.equal((await db.apiTokens.get(made[1].id))?.revokedAt, clock.now);
    t.equal(await db.apiTokens.countActive(), 4);
    const { pages, items } = await allPages((p) => db.apiTokens.list(p), 2);
    t.same(pages.map((p) => p.length), [2, 2, 1]);
    t.same(items.map((k) => k.id), made.map((k) => k.id), 'oldest first, revoked included');
  });

  t.test('events: stored with JSON payloads, filtered by channel, type and time, newest first in pages', async (t) => {
    const { db } = await setup(t);
    const types = ['channel.preview', 'channel.live', 'channel.ended'];
    const appended: StoredEvent[] = [];
    for (let i = 0; i < 30; i++) {
      appended.push(await db.events.append({
        id: `evt_${String(i).padStart(3, '0')}`, type: types[i % 3], channelId: i % 2 === 0 ? 'news' : 'sport',
        // Pairs of events share a millisecond: the id breaks the tie.
        occurredAt: T0 + Math.floor(i / 2) * 1000,
        payload: { i, nested: { list: [1, 'two', null, true], text: 'ünïcødé ✓' } },
      }));
    }
    const origin = await db.events.append({ type: 'storage.low', payload: { freeBytes: 1 }, occurredAt: T0 + 99_000 });
    t.equal(origin.channelId, null);
    t.same(await db.events.get(appended[7].id), appended[7], 'the payload round-trips');
    t.match(appended[7].payload, { i: 7, nested: { list: [1, 'two', null, true], text: 'ünïcødé ✓' } });

    const { pages, items } = await allPages((p) => db.events.query(p), 7);
    t.same(pages.map((p) => p.length), [7, 7, 7, 7, 3]);
    const newestFirst = [origin, ...appended].sort((a, b) => b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : -1));
    t.same(items.map((e) => e.id), newestFirst.map((e) => e.id), 'newest first, ties by id, nothing twice or missed');

    const news = await allPages((p) => db.events.query({ ...p, channelId: 'news' }), 4);
    t.equal(news.items.length, 15);
    t.ok(news.items.every((e) => e.channelId === 'news'));
    const live = await db.events.query({ type: 'channel.live', limit: 100 });
    t.equal(live.items.length, 10);
    const window = await db.events.query({ from: T0 + 2000, to: T0 + 5000, limit: 100 });
    t.same(window.items.map((e) => e.payload.i), [9, 8, 7, 6, 5, 4], 'from inclusive, to exclusive');
    const combined = await db.events.query({ channelId: 'sport', type: 'channel.preview', from: T0, to: T0 + 100_000 });
    t.same(combined.items.map((e) => e.payload.i), [27, 21, 15, 9, 3]);
    await t.rejects(db.events.append({ id: appended[0].id, type: 'x', payload: {} }), UniqueViolationError);
  });

  t.test('alerts: kept from their events in the same transaction; listed by state, channel and rule, newest first', async (t) => {
    const { db, clock } = await setup(t);
    const raise = (alertId: string, rule: string, channel: string | null, value: number) => recordEvent(db, {
      type: 'alert.raised', channelId: channel, occurredAt: clock.advance(1000),
      payload: { alertId, rule, channel, value, threshold: 5, unit: 's', message: `${rule} on ${channel}` },
    });
    await raise('alr_1', 'publisherStalled', 'news', 6.5);
    await raise('alr_2', 'diskLow', null, 100);
    await raise('alr_3', 'publisherStalled', 'sport', 7);
    await recordEvent(db, { type: 'channel.live', channelId: 'news', payload: { channel: 'news', alertId: 'not-an-alert' } });
    const clearedAt = clock.advance(4000);
    await recordEvent(db, { type: 'alert.cleared', channelId: 'news', occurredAt: clearedAt,
      payload: { alertId: 'alr_1', rule: 'publisherStalled', channel: 'news', value: null, threshold: 5, unit: 's', message: 'frames again' } });

    t.same(await db.alerts.get('alr_1'), {
      id: 'alr_1', rule: 'publisherStalled', channelId: 'news', state: 'cleared', raisedAt: T0 + 1000, clearedAt,
      value: 6.5, threshold: 5, unit: 's', message: 'publisherStalled on news', clearValue: null, clearMessage: 'frames again',
    });
    t.same((await db.alerts.list()).items.map((a) => a.id), ['alr_3', 'alr_2', 'alr_1'], 'newest raise first; other events ignored');
    t.same((await db.alerts.list({ state: 'active' })).items.map((a) => a.id), ['alr_3', 'alr_2']);
    t.same((await db.alerts.list({ state: 'cleared', channelId: 'news' })).items.map((a) => a.id), ['alr_1']);
    t.same((await db.alerts.list({ rule: 'diskLow' })).items.map((a) => [a.id, a.channelId]), [['alr_2', null]]);
    const pages = await allPages((p) => db.alerts.list(p), 2);
    t.same(pages.pages.map((p) => p.length), [2, 1]);

    await recordEvent(db, { type: 'alert.cleared', channelId: 'news', occurredAt: clock.advance(1000),
      payload: { alertId: 'alr_1', rule: 'publisherStalled', channel: 'news', value: 1, threshold: 5, unit: 's', message: 'again' } });
    t.equal((await db.alerts.get('alr_1'))?.clearedAt, clearedAt, 'a second clear changes nothing');
    await t.rejects(db.transaction(async (tx) => {
      const e = await tx.events.append({ type: 'alert.raised', payload: { alertId: 'alr_4', rule: 'x', channel: null, value: 1, threshold: 1, unit: '', message: '' } });
      await tx.alerts.project(e);
      throw new Error('rolled back');
    }), /rolled back/);
    t.equal(await db.alerts.get('alr_4'), undefined, 'an alert rolls back with its event');
  });

  t.test('analytics: minute rows per origin merge on a second write, read back exact; live CCU adds up across origins; retention', async (t) => {
    const { db } = await setup(t);
    const minute = (channel: string, at: number, o: Partial<AnalyticsMinute> = {}): AnalyticsMinute => ({
      ...emptyMinute(channel, at), ccuSamples: 6, ccuSum: 60, ccuMax: 12, sessions: 3, views: 2, newUniques: 1,
      watchMs: { live: 50_000, dvr: 7000, catchup: 0 }, beaconPlayMs: 40_000, rebufferMs: 400,
      dims: { rendition: { source: 57_000 }, protocol: { h1: 57_000 }, player: { browser: 57_000 }, latencyMode: { 'ultra-low': 57_000 } }, ...o,
    });
    const m0 = T0, m1 = T0 + 60_000;
    await db.analytics.addMinutes('origin-a', [minute('news', m0), minute('news', m1), minute('sport', m0)]);
    await db.analytics.addMinutes('origin-b', [minute('news', m0, { ccuMax: 5, dims: { rendition: { '360p': 1000 }, protocol: { h2: 1000 }, player: {}, latencyMode: {} } })]);
    // A late slice of origin-a's first minute: merged into its row.
    await db.analytics.addMinutes('origin-a', [minute('news', m0, { ccuSamples: 0, ccuSum: 0, ccuMax: 3, sessions: 0, views: 1, newUniques: 0,
      watchMs: { live: 500, dvr: 0, catchup: 250 }, beaconPlayMs: 0, rebufferMs: 0,
      dims: { rendition: { source: 500, '360p': 250 }, protocol: { h1: 750 }, player: { browser: 750 }, latencyMode: { 'ultra-low': 750 } } })]);
    const rows = await db.analytics.minutes('news', m0, m1 + 60_000);
    t.same(rows.map((r) => [r.originId, r.minute]), [['origin-a', m0], ['origin-b', m0], ['origin-a', m1]], 'by minute, one row per origin');
    t.same(rows[0], { ...minute('news', m0), originId: 'origin-a', views: 3, watchMs: { live: 50_500, dvr: 7000, catchup: 250 },
      dims: { rendition: { source: 57_500, '360p': 250 }, protocol: { h1: 57_750 }, player: { browser: 57_750 }, latencyMode: { 'ultra-low': 57_750 } } },
    'counters added, ccuMax the larger, dimensions merged');
    t.same((await db.analytics.minutes('news', m1, m1 + 1)).map((r) => r.minute), [m1], '[from, to)');
    t.same(await db.analytics.minutes('weather', m0, m1), []);

    await db.analytics.putLive('origin-a', m1, [{ channelId: 'news', ccu: 10 }, { channelId: 'sport', ccu: 2 }]);
    await db.analytics.putLive('origin-b', m1 + 5000, [{ channelId: 'news', ccu: 7 }]);
    await db.analytics.putLive('origin-c', m0, [{ channelId: 'news', ccu: 100 }]);
    t.same(await db.analytics.live(m1), [{ channelId: 'news', ccu: 17, origins: 2, sampledAt: m1 }, { channelId: 'sport', ccu: 2, origins: 1, sampledAt: m1 }],
      'summed over the origins with a fresh sample (origin-c\'s is stale)');
    await db.analytics.putLive('origin-a', m1 + 10_000, [{ channelId: 'news', ccu: 4 }]);
    t.same((await db.analytics.live(m1)).map((c) => [c.channelId, c.ccu]), [['news', 11]], 'an origin\'s new sample replaces its previous one');

    t.equal(await db.analytics.deleteBefore(m1), 3, 'the retention sweep deletes older minutes of every origin and channel');
    t.same((await db.analytics.minutes('news', 0, m1 + 60_000)).map((r) => r.minute), [m1]);
  });

  t.test('webhook endpoints: event types as a set, update, pages, delete', async (t) => {
    const { db, clock } = await setup(t);
    const a = await db.webhooks.create({ url: 'https://hooks.example/a', secret: 'whsec_a', eventTypes: ['channel.live', 'channel.ended', 'channel.live'] });
    t.match(a, { url: 'https://hooks.example/a', secret: 'whsec_a', eventTypes: ['channel.ended', 'channel.live'], enabled: true, createdAt: T0 });
    t.same(await db.webhooks.get(a.id), a);
    clock.advance(1);
    const b = await db.webhooks.create({ url: 'https://hooks.example/b', secret: 'whsec_b', eventTypes: ['*'], enabled: false });
    clock.advance(1);
    const c = await db.webhooks.create({ url: 'https://hooks.example/c', secret: 'whsec_c', eventTypes: [] });
    const { pages, items } = await allPages((p) => db.webhooks.list(p), 2);
    t.same(pages.map((p) => p.length), [2, 1]);
    t.same(items, [a, b, c], 'oldest first, with their event types');

    clock.advance(1000);
    const updated = await db.webhooks.update(a.id, { enabled: false, eventTypes: ['recording.ready'], url: 'https://hooks.example/a2' });
    t.match(updated, { id: a.id, url: 'https://hooks.example/a2', secret: 'whsec_a', enabled: false, eventTypes: ['recording.ready'], updatedAt: T0 + 1002 });
    t.same(await db.webhooks.get(a.id), updated);
    t.same((await db.webhooks.update(a.id, { secret: 'rotated' }))?.eventTypes, ['recording.ready'], 'types stay unless given');
    t.equal(await db.webhooks.update('wh_nope', { enabled: true }), undefined);
    t.equal(await db.webhooks.delete(b.id), true);
    t.equal(await db.webhooks.delete(b.id), false);
    t.equal(await db.webhooks.get(b.id), undefined);
  });

  /** Endpoints subscribed in different ways, and a helper storing an event with its outbox rows. */
  const outboxSetup = async (t: Test) => {
    const s = await setup(t);
    const live = await s.db.webhooks.create({ url: 'http://127.0.0.1:9/live', secret: 's1', eventTypes: ['channel.live'] });
    const all = await s.db.webhooks.create({ url: 'http://127.0.0.1:9/all', secret: 's2', eventTypes: ['*'] });
    const off = await s.db.webhooks.create({ url: 'http://127.0.0.1:9/off', secret: 's3', eventTypes: ['*'], enabled: false });
    const record = async (type: string) => (await recordEvent(s.db, { type, channelId: 'news', payload: { type } })).event;
    return { ...s, live, all, off, record };
  };

  t.test('outbox: an event is enqueued for each enabled subscribed endpoint, in its transaction', async (t) => {
    const { db, live, all, record } = await outboxSetup(t);
    const ev = await record('channel.live');
    const other = await record('channel.ended');
    const rows = [...(await db.outbox.listForEndpoint(live.id)).items, ...(await db.outbox.listForEndpoint(all.id)).items];
    t.same(rows.map((d) => [d.endpointId, d.eventId]).sort(), [[all.id, ev.id], [all.id, other.id], [live.id, ev.id]].sort(),
      'by type or *, never to a disabled endpoint');
    t.ok(rows.every((d) => d.state === 'pending' && d.attempts === 0 && d.nextAttemptAt === T0));
    t.equal(await db.outbox.enqueueForEvent(ev), 0, 'enqueueing again adds nothing');
    t.same(await db.outbox.countByState(), { pending: 3, delivered: 0, failed: 0 });

    await t.rejects(db.transaction(async (tx) => {
      const e = await tx.events.append({ type: 'channel.live', payload: {} });
      t.equal(await tx.outbox.enqueueForEvent(e), 2);
      throw new Error('the bus failed after storing');
    }), /the bus failed/);
    t.same(await db.outbox.countByState(), { pending: 3, delivered: 0, failed: 0 }, 'a rolled back transaction leaves no delivery');
    t.equal((await db.events.query({ type: 'channel.live' })).items.length, 1, 'and no event');
  });

  t.test('outbox: claim leases, completes, retries at the time given, gives up, logs every attempt', async (t) => {
    const { db, clock, live, all, off, record } = await outboxSetup(t);
    const ev = await record('channel.live');
    const claimed = await db.outbox.claim({ owner: 'origin-a', leaseMs: 30_000 });
    t.equal(claimed.length, 2);
    const toLive = claimed.find((c) => c.endpoint.id === live.id)!;
    t.match(toLive, { delivery: { attempts: 1, leaseOwner: 'origin-a', leaseUntil: T0 + 30_000 }, endpoint: { url: live.url, secret: 's1' },
      event: { id: ev.id, type: 'channel.live', channelId: 'news', payload: { type: 'channel.live' } } }, 'with what the sender needs');
    t.same(await db.outbox.claim({ owner: 'origin-b', leaseMs: 30_000 }), [], 'leased deliveries are not claimed again');

    clock.advance(120);
    t.equal(await db.outbox.complete(toLive.delivery.id, 'origin-b', { status: 204, durationMs: 1 }), false, 'only the lease holder completes');
    t.equal(await db.outbox.complete(toLive.delivery.id, 'origin-a', { status: 204, durationMs: 118.6 }), true);
    t.match(await db.outbox.get(toLive.delivery.id), { state: 'delivered', deliveredAt: T0 + 120, lastStatus: 204, leaseOwner: null, leaseUntil: null });
    t.equal(await db.outbox.complete(toLive.delivery.id, 'origin-a', { status: 204, durationMs: 1 }), false, 'once');

    const toAll = claimed.find((c) => c.endpoint.id === all.id)!;
    t.equal(await db.outbox.fail(toAll.delivery.id, 'origin-a', { status: 500, error: 'HTTP 500', durationMs: 40 }, T0 + 10_000), true);
    t.match(await db.outbox.get(toAll.delivery.id), { state: 'pending', nextAttemptAt: T0 + 10_000, lastStatus: 500, lastError: 'HTTP 500', leaseOwner: null });
    t.same(await db.outbox.claim({ owner: 'origin-a', leaseMs: 30_000 }), [], 'not before its retry time');
    clock.now = T0 + 10_000;
    const retry = await db.outbox.claim({ owner: 'origin-b', leaseMs: 30_000 });
    t.same(retry.map((c) => [c.delivery.id, c.delivery.attempts]), [[toAll.delivery.id, 2]], 'due again: attempt 2, by any sender');
    clock.advance(5);
    t.equal(await db.outbox.fail(toAll.delivery.id, 'origin-b', { error: 'ECONNREFUSED', durationMs: 5 }, null), true);
    t.match(await db.outbox.get(toAll.delivery.id), { state: 'failed', lastStatus: null, lastError: 'ECONNREFUSED' });
    clock.advance(86_400_000);
    t.same(await db.outbox.claim({ owner: 'origin-a', leaseMs: 30_000 }), [], 'a failed delivery is never claimed');

    t.same((await db.deliveryLog.listForDelivery(toAll.delivery.id)).map((a) => [a.attempt, a.ok, a.status, a.error, a.durationMs]),
      [[1, false, 500, 'HTTP 500', 40], [2, false, null, 'ECONNREFUSED', 5]]);
    const log = await allPages((p) => db.deliveryLog.listForEndpoint(all.id, p), 1);
    t.same(log.items.map((a) => a.attempt), [2, 1], 'the endpoint log, newest first, in pages');
    t.match((await db.deliveryLog.listForEndpoint(live.id)).items, [{ ok: true, status: 204, error: null, durationMs: 119, at: T0 + 120 }]);
    t.same((await db.deliveryLog.listForEndpoint(off.id)).items, []);

    t.same((await db.outbox.listForEndpoint(all.id, { state: 'failed' })).items.map((d) => d.id), [toAll.delivery.id]);
    t.same((await db.outbox.listForEndpoint(all.id, { state: 'delivered' })).items, []);
    const again = await db.outbox.redeliver(all.id, ev.id);
    t.match(again, { id: toAll.delivery.id, state: 'pending', attempts: 0, nextAttemptAt: clock.now, deliveredAt: null }, 'manual redelivery resets it');
    const fresh = await db.outbox.redeliver(off.id, ev.id);
    t.match(fresh, { endpointId: off.id, eventId: ev.id, state: 'pending' }, 'or creates the delivery the endpoint never had');
    await t.rejects(db.outbox.redeliver('wh_nope', ev.id), ForeignKeyViolationError);
    t.same((await db.outbox.claim({ owner: 'origin-a', leaseMs: 1 })).map((c) => c.delivery.id), [toAll.delivery.id],
      'deliveries of a disabled endpoint wait until it is enabled');
    await db.webhooks.update(off.id, { enabled: true });
    t.same((await db.outbox.claim({ owner: 'origin-a', leaseMs: 1 })).map((c) => c.endpoint.id), [off.id]);
    t.same(await db.outbox.countByState(), { pending: 2, delivered: 1, failed: 0 });
  });

  t.test('outbox: due order and the claim limit', async (t) => {
    const { db, clock, all, record } = await outboxSetup(t);
    for (let i = 0; i < 12; i++) { await record('channel.ended'); clock.advance(1); }
    const first = await db.outbox.claim({ owner: 'a', leaseMs: 60_000, limit: 5 });
    t.equal(first.length, 5);
    t.same(first.map((c) => c.delivery.nextAttemptAt), [0, 1, 2, 3, 4].map((i) => T0 + i), 'oldest due first');
    t.ok(first.every((c) => c.endpoint.id === all.id));
    t.equal((await db.outbox.claim({ owner: 'a', leaseMs: 60_000, limit: 500 })).length, 7, 'the rest, whatever the limit asked');
  });

  t.test('outbox: two concurrent senders never claim the same delivery', async (t) => {
    const { db, open } = await setup(t);
    const endpoints = [];
    for (let i = 0; i < 3; i++) endpoints.push(await db.webhooks.create({ url: `http://127.0.0.1:9/${i}`, secret: 's', eventTypes: ['*'] }));
    let enqueued = 0;
    for (let i = 0; i < 40; i++) enqueued += (await recordEvent(db, { type: 'channel.live', payload: { i } })).deliveries;
    t.equal(enqueued, 120, 'recordEvent: 40 events × 3 endpoints');
    // A second database object: its own pool on PostgreSQL, as a second origin process would have.
    const other = await open();
    const drain = async (sender: Database, owner: string) => {
      const got: number[] = [];
      for (;;) {
        const batch = await sender.outbox.claim({ owner, leaseMs: 60_000, limit: 4 });
        if (batch.length === 0) return got;
        got.push(...batch.map((c) => c.delivery.id));
      }
    };
    // Two claimers on each database object, all at once.
    const [a1, b1, a2, b2] = await Promise.all([drain(db, 'origin-a'), drain(other, 'origin-b'), drain(db, 'origin-a2'), drain(other, 'origin-b2')]);
    const a = [...a1, ...a2], b = [...b1, ...b2];
    const claimed = [...a, ...b];
    t.equal(claimed.length, 120, 'every delivery claimed');
    t.equal(new Set(claimed).size, 120, 'none twice');
    t.ok(a.length > 0 && b.length > 0, `both senders got work (${a.length} / ${b.length})`);
    const rows = await db.outbox.listForEndpoint(endpoints[0].id, { limit: 100 });
    t.ok(rows.items.every((d) => d.attempts === 1), 'each claimed exactly once');
  });

  t.test('restart: data survives close and reopen; a delivery leased by a dead sender is retried after its lease', async (t) => {
    const s = await outboxSetup(t);
    await s.db.channels.create({ id: 'news', name: 'News', ipAllowList: ['192.0.2.0/24'] });
    await s.db.streamKeys.create({ channelId: 'news', keyHash: streamKeys.digest('persisted-key'), hint: '-key' });
    const ev = await s.record('channel.live');
    const leased = await s.db.outbox.claim({ owner: 'crashed-origin', leaseMs: 30_000, limit: 1 });
    t.equal(leased.length, 1);
    // The process "dies" mid-delivery: the database is closed without completing the attempt.
    await s.db.close();

    const { db } = await setup(t, s.url, s.clock);
    t.same(await db.migrate(), { applied: [], version: MIGRATIONS[MIGRATIONS.length - 1].version }, 'reopening migrates nothing');
    t.match(await db.channels.get('news'), { name: 'News', ipAllowList: ['192.0.2.0/24'] });
    t.equal((await db.streamKeys.findActiveByHash(streamKeys.digest('persisted-key')))?.channelId, 'news');
    t.same((await db.events.get(ev.id))?.payload, { type: 'channel.live' });
    t.equal((await db.webhooks.list()).items.length, 3);

    const claimNow = (at: number) => { s.clock.now = at; return db.outbox.claim({ owner: 'new-origin', leaseMs: 30_000 }); };
    const before = await claimNow(T0 + 29_999);
    t.notOk(before.some((c) => c.delivery.id === leased[0].delivery.id), 'the lease still holds');
    const after = await claimNow(T0 + 30_000);
    t.match(after.find((c) => c.delivery.id === leased[0].delivery.id), { delivery: { attempts: 2, leaseOwner: 'new-origin' } },
      'retried once the lease expired, the crashed attempt counted');
    t.equal(await db.outbox.complete(leased[0].delivery.id, 'crashed-origin', { status: 200, durationMs: 1 }), false,
      'the old holder cannot complete it any more');
  });
}
