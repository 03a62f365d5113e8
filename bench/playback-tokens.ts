/**
 * Issue 5 point 2: what playback tokens cost the origin per request.
 *
 *   node dist/bench/playback-tokens.js [--n 20000] [--playlists 2000] [--dvrSec 600]
 *
 * In one process, no HTTP (the handler is called directly, so the numbers are the gate's and
 * the responders' own, not the socket's):
 *   tokens      PlaybackTokens.verify of a token never seen (jose HS256 over WebCrypto) and
 *               PlaybackTokens.known of one verified before (the cache), µs per check;
 *   part        OriginHandler.handle of an existing part: channel without rules, channel that
 *               requires tokens with a known token, and with a new token per request, µs per request;
 *   playlist    OriginHandler.handle of the media playlist (gzip) with one token shared by every
 *               viewer (rendered once per window version) and with a token per viewer (each
 *               token's URIs differ, so each is a render): a viewer's first playlist, and their
 *               next one after a new part (their settled DVR blocks kept), for the hot window and
 *               a DVR window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flags, machine, median, report, round } from './common.js';
import { PlaybackTokens } from '../src/delivery/access/playback-tokens.js';
import { OriginHandler, type ChannelAccess } from '../src/delivery/handler.js';
import { ChannelArchive } from '../src/store/archive/channel-archive.js';
import { silentLogger } from '../src/log.js';
import { fakeChannel, request } from '../test/helpers/fake-channel.js';

const opts = flags({ n: 20_000, playlists: 2000, dvrSec: 600 });
const KEY = Buffer.from('a-benchmark-playback-token-key-0123456789');
/** Rounds alternate the variants, so machine noise and GC hit each alike; each variant's median round is kept. */
const ROUNDS = 5;

/** µs per call of `fn` over `n` calls (awaited one after another). */
async function perOp(n: number, fn: (i: number) => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return round(Number(process.hrtime.bigint() - t0) / 1000 / n, 3);
}

/** Distinct tokens (exp differs): the same claims signed twice would be the same string, a cache hit. */
const distinctTokens = (tokens: PlaybackTokens, n: number, channel: (i: number) => string, salt = 0) =>
  Promise.all(Array.from({ length: n }, (_, i) => tokens.sign(channel(i), { expiresInSec: 600 + salt * n + i })));

async function tokenCosts(n: number) {
  const rounds: { fresh: number; parallelWall: number; parallelCpu: number; known: number }[] = [];
  const channelOf = (i: number) => `ch${i % 10}`;
  for (let r = 0; r < ROUNDS; r++) {
    let tokens = new PlaybackTokens(KEY, { cacheEntries: n });
    const list = await distinctTokens(tokens, n, channelOf);
    // One after another: the latency a viewer's first request sees (WebCrypto's HMAC runs as a thread-pool job).
    const fresh = await perOp(n, (i) => tokens.verify(list[i].token, channelOf(i)));
    const known = await perOp(n, (i) => tokens.known(list[i].token, channelOf(i)));
    // 64 at a time: what a burst of new viewers (or of forged tokens) costs in CPU, all threads counted.
    tokens = new PlaybackTokens(KEY, { cacheEntries: n });
    const cpu0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i += 64) await Promise.all(list.slice(i, i + 64).map((x, k) => tokens.verify(x.token, channelOf(i + k))));
    const cpu = process.cpuUsage(cpu0);
    rounds.push({ fresh, known, parallelWall: Number(process.hrtime.bigint() - t0) / 1000 / n, parallelCpu: (cpu.user + cpu.system) / n });
  }
  const med = (k: keyof (typeof rounds)[number]) => round(median(rounds.map((x) => x[k])), 3);
  return { verifyNewUs: med('fresh'), verifyNewParallelWallUs: med('parallelWall'), verifyNewCpuUs: med('parallelCpu'), knownUs: med('known') };
}

/** A live channel (2 s segments of ten 0.2 s parts) with `dvrSec` of window, behind a handler whose access rules the caller sets. */
async function channel(dvrSec: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-bench-tokens-'));
  const archive = dvrSec > 0 ? new ChannelArchive(dir, 'test', { writable: true, reportWriteError: () => {} }, silentLogger()) : undefined;
  const f = fakeChannel('ultra-low', { archive, dvrWindowMs: dvrSec * 1000 });
  f.parts(Math.max(10 * 10, (dvrSec / 2) * 10) + 3);
  const access: ChannelAccess = { tokenRequired: false, preview: false };
  const tokens = new PlaybackTokens(KEY, { cacheEntries: 100_000 });
  const handler = new OriginHandler({ get: () => f.channel, access: () => access }, silentLogger(), tokens);
  const w = f.channel.rendition()!.window;
  return { f, access, tokens, handler, w, close: () => rmSync(dir, { recursive: true, force: true }) };
}

async function partCosts(n: number) {
  const c = await channel(0);
  const seg = c.w.segments[c.w.segments.length - 2];
  const path = `/live/test/source/${seg.msn}.3.m4s`;
  const shared = (await c.tokens.sign('test', { expiresInSec: 600 })).token;
  const get = (p: string) => c.handler.handle(request(p));
  await perOp(2000, () => get(`${path}?token=${shared}`)); // warm-up
  const rounds: { noRules: number; known: number; fresh: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const own = await distinctTokens(c.tokens, n, () => 'test', r + 1);
    c.access.tokenRequired = false;
    const noRules = await perOp(n, () => get(`${path}?token=${shared}`));
    c.access.tokenRequired = true;
    const known = await perOp(n, () => get(`${path}?token=${shared}`));
    const fresh = await perOp(n, (i) => get(`${path}?token=${own[i].token}`));
    rounds.push({ noRules, known, fresh });
  }
  c.close();
  const noRulesUs = median(rounds.map((x) => x.noRules)), knownTokenUs = median(rounds.map((x) => x.known));
  return { noRulesUs, knownTokenUs, newTokenUs: median(rounds.map((x) => x.fresh)), gateUs: round(knownTokenUs - noRulesUs, 3) };
}

async function playlistCosts(n: number, dvrSec: number) {
  const c = await channel(dvrSec);
  c.access.tokenRequired = true;
  const shared = (await c.tokens.sign('test', { expiresInSec: 600 })).token;
  const own = await distinctTokens(c.tokens, n, () => 'test', 1);
  for (const { token } of own) c.tokens.known(token, 'test') ?? await c.tokens.verify(token, 'test'); // only the render is measured
  const gzip = { headers: { 'accept-encoding': 'gzip' } };
  const get = (token: string) => c.handler.handle(request(`/live/test/source.m3u8?token=${token}`, gzip));
  await perOp(50, () => get(shared));
  const sharedTokenUs = await perOp(n, () => get(shared));
  const perViewerTokenUs = await perOp(n, (i) => get(own[i].token));
  // Every viewer again after a new part: what each of their reloads costs from then on.
  c.f.parts(1);
  const perViewerLaterUs = await perOp(n, (i) => get(own[i].token));
  const segments = c.w.segments.length;
  c.close();
  return { windowSec: dvrSec || 20, segments, sharedTokenUs, perViewerTokenUs, perViewerLaterUs };
}

async function main(): Promise<void> {
  const tokens = await tokenCosts(opts.n);
  const part = await partCosts(opts.n);
  const playlists = [await playlistCosts(opts.playlists, 0), await playlistCosts(Math.max(20, Math.round(opts.playlists / 10)), opts.dvrSec)];
  report('playback-tokens', { params: opts, tokens, part, playlists });
  const m = machine();
  process.stdout.write(`playback tokens [${m.cpu}, ${m.nproc} cores, node ${m.node}], µs:\n` +
    `  check: ${tokens.knownUs} for a known token; a new one ${tokens.verifyNewUs} one after another, ` +
    `${tokens.verifyNewParallelWallUs} wall and ${tokens.verifyNewCpuUs} CPU (all threads) each 64 at a time\n` +
    `  part request: ${part.noRulesUs} without rules, ${part.knownTokenUs} with a known token (gate ${part.gateUs}), ${part.newTokenUs} with a new token each\n` +
    playlists.map((p) => `  media playlist, ${p.windowSec} s window (${p.segments} segments): ${p.sharedTokenUs} one token for all, a token per viewer ${p.perViewerTokenUs} first and ${p.perViewerLaterUs} later\n`).join(''));
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`playback-tokens failed: ${e.stack ?? e}\n`); process.exit(1); });
