/**
 * Scenario 16 (issue 21): the operator console with 100 channels.
 *
 *   node dist/bench/console.js [--channels 100] [--live 3] [--loads 5] [--rounds 3] [--window 20] [--tabs 5]
 *
 * One origin process (`node dist/src/main.js`, defaults, an admin token), --channels channels
 * made through the API, --live of them published by ffmpeg (a 640x360 file looped with -c copy:
 * next to nothing for the publisher, a live status for the console to show).
 *   - Page load: each page opened --loads times in a fresh tab of Chromium (the token already in
 *     session storage, as after sign-in), from navigation start until the page shows its data:
 *     channels: all rows listed; channel (a live one): ingest facts and the event timeline;
 *     analytics: the selected channel's report and every channel's totals; operations: the
 *     readiness checks and the API tokens. The bar: < 1 s each.
 *   - Polling cost: the origin's CPU (utime + stime from /proc) over --window s with no console
 *     open, then with the channels page open (it polls every channel and the realtime viewers
 *     every second), then with an idle channel's page open (its status every second, events and
 *     alerts every 2 s); alternating, --rounds times. One console's cost is below the origin's
 *     own round-to-round noise (about ±0.5 % of a core), so --tabs consoles are opened at once
 *     and the added CPU divided by --tabs. The bar: < 1 % of a core added per console.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { makeTestFile } from '../test/helpers/ffmpeg.js';
import { CLK_TCK, flags, median, procSample, report, round, sleep, startOriginProcess, stopProcess, tmpDir, untilListed, waitFor200 } from './common.js';
import { spawn, type ChildProcess } from 'node:child_process';

const opts = flags({ channels: 100, live: 3, loads: 5, rounds: 3, window: 20, tabs: 5 });
const ADMIN = 'bench-console-admin-token-0123456789abcdef';

type PageName = 'channels' | 'channel' | 'analytics' | 'operations';

/** What "loaded" means on each page: its data on screen, not merely its frame. */
const READY: Record<PageName, (n: number) => boolean> = {
  channels: (n) => document.querySelectorAll('[data-testid=channels] tbody tr').length >= n,
  channel: () => document.querySelector('[data-testid=ingest-facts]') !== null && document.querySelectorAll('[data-testid=events] li').length > 0,
  analytics: (n) => document.querySelector('[data-testid=totals]') !== null && document.querySelectorAll('[data-testid=per-channel] tbody tr').length >= n
    && [...document.querySelectorAll('[data-testid=per-channel] tbody td')].every((td) => td.textContent !== '…'),
  operations: () => document.querySelector('[data-testid=readiness]') !== null && document.querySelectorAll('[data-testid=api-tokens] tbody tr').length > 0,
};

async function consoleTab(browser: Browser, api: string, route: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token) => sessionStorage.setItem('sigma-console-token', token), ADMIN);
  const page = await context.newPage();
  await page.goto(`${api}/console/#/${route}`);
  return page;
}

/** Milliseconds from navigation start until the page shows its data. */
async function loadTime(browser: Browser, api: string, name: PageName, route: string, n: number): Promise<number> {
  const page = await consoleTab(browser, api, route);
  try {
    await page.waitForFunction(READY[name], n, { timeout: 30_000, polling: 'raf' });
    return await page.evaluate(() => performance.now());
  } finally {
    await page.context().close();
  }
}

/** The origin's CPU over `seconds`, in % of one core. */
async function cpuOver(pid: number, seconds: number): Promise<number> {
  const a = procSample(pid);
  await sleep(seconds * 1000);
  const b = procSample(pid);
  return ((b.ticks - a.ticks) / CLK_TCK) / ((b.t - a.t) / 1000) * 100;
}

async function main(): Promise<void> {
  const origin = await startOriginProcess({ api: { adminToken: ADMIN }, channels: [] });
  const api = `http://127.0.0.1:${origin.ports.api}`;
  await waitFor200(`${api}/healthz`, 15_000, 'the API');
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${api}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<any>;
  };
  const keys: string[] = [];
  for (let i = 0; i < opts.channels; i++) {
    const c = await call('POST', '/v1/channels', { id: `ch${String(i).padStart(3, '0')}`, name: `Channel ${i}`, autoStart: true });
    keys.push(c.streamKey.publishUrl);
  }
  const file = join(tmpDir('console'), 'source.flv');
  await makeTestFile(file, { durationSec: 20, width: 640, height: 360, fps: 30, gop: 30 });
  const publishers: ChildProcess[] = keys.slice(0, opts.live).map((url) => spawn('ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: 'ignore' }));
  const browser = await launchChromium();
  try {
    for (let i = 0; i < opts.live; i++) await untilListed(`${origin.http}/live/ch${String(i).padStart(3, '0')}/source.m3u8`, 3);
    const routes: Record<PageName, string> = { channels: 'channels', channel: 'channels/ch000', analytics: 'analytics', operations: 'operations' };
    const loads: Record<PageName, number[]> = { channels: [], channel: [], analytics: [], operations: [] };
    await loadTime(browser, api, 'channels', routes.channels, opts.channels); // warm-up: the first compile of every module
    for (let r = 0; r < opts.loads; r++) {
      for (const name of Object.keys(routes) as PageName[]) loads[name].push(round(await loadTime(browser, api, name, routes[name], opts.channels), 0));
    }
    for (const [name, xs] of Object.entries(loads)) console.log(`load ${name}: median ${median(xs)} ms, max ${Math.max(...xs)} ms (${xs.join(', ')})`);

    const cpu = { none: [] as number[], channelsPage: [] as number[], channelPage: [] as number[] };
    const idleChannel = `ch${String(opts.channels - 1).padStart(3, '0')}`;
    for (let r = 0; r < opts.rounds; r++) {
      cpu.none.push(round(await cpuOver(origin.pid, opts.window)));
      for (const [route, into] of [['channels', cpu.channelsPage], [`channels/${idleChannel}`, cpu.channelPage]] as const) {
        const tabs = await Promise.all(Array.from({ length: opts.tabs }, () => consoleTab(browser, api, route)));
        await sleep(3000);
        into.push(round(await cpuOver(origin.pid, opts.window)));
        await Promise.all(tabs.map((tab) => tab.context().close()));
      }
      console.log(`round ${r + 1}: origin CPU ${cpu.none[r]} % (no console), ${cpu.channelsPage[r]} % (${opts.tabs} channels pages), ${cpu.channelPage[r]} % (${opts.tabs} pages of a channel)`);
    }
    const added = {
      channelsPage: round((median(cpu.channelsPage) - median(cpu.none)) / opts.tabs),
      channelPage: round((median(cpu.channelPage) - median(cpu.none)) / opts.tabs),
    };
    console.log(`one console's polling adds ${added.channelsPage} % of a core (channels page, ${opts.channels} channels), ${added.channelPage} % (a channel's page)`);
    report('console', {
      opts,
      loadMs: Object.fromEntries(Object.entries(loads).map(([k, xs]) => [k, { median: median(xs), max: Math.max(...xs), all: xs }])),
      cpuPercentOfCore: cpu, addedByPolling: added,
    });
  } finally {
    await browser.close();
    await Promise.all(publishers.map((p) => stopProcess(p)));
    await origin.stop();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
