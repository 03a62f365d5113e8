/**
 * The operator console (issue 21) driven as an operator would, in Debian's Chromium: sign in
 * with a token, create a channel, copy its key, publish with ffmpeg, watch it turn preview then
 * live in the list without a reload, start it from the console, play the preview, see the
 * ingest charts fill, see the alert a stalled publisher raises, read the event timeline, play a
 * catchup range, download the session's recording, and find no write button with a read-only token. Screenshots of every page at
 * desktop and phone widths go to a temporary folder the test prints. No browser console error
 * may appear on the way (the refused actions at the end are checked apart).
 */
import t from 'tap';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { accessibilityProblems } from '../helpers/accessibility.js';

t.setTimeout(240_000);

const ADMIN = 'console-admin-token-0123456789abcdef012345';
const DESKTOP = { width: 1280, height: 900 }, PHONE = { width: 390, height: 844 };
/** The bar: the list shows a state change within 2 s, without a reload (it polls every second). */
const LIST_MS = 2000;

t.test('operator console: an operator runs a channel from sign-in to catchup', async (t) => {
  const o = await startOrigin({ api: { port: 0, host: '127.0.0.1', adminToken: ADMIN } });
  t.teardown(() => o.close());
  const api = `http://127.0.0.1:${o.ports.api}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined });
    return r.status === 204 ? undefined : r.json() as Promise<any>;
  };
  const readOnly = (await call('POST', '/v1/api-tokens', { name: 'viewer dashboard', scopes: ['read'] })).secret as string;
  const HOOK_SECRET = 'console-webhook-secret-0123456789';
  const receiver = await startWebhookReceiver({ secret: HOOK_SECRET, nowSec: () => Date.now() / 1000 });
  t.teardown(() => receiver.close());
  await call('POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['channel.live', 'channel.ended'], secret: HOOK_SECRET });

  const shots = mkdtempSync(join(tmpdir(), 'sigma-console-shots-'));
  t.comment(`screenshots: ${shots}`);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  // Each page as shot is also checked: labels, names, contrast (WCAG AA), at both widths.
  const a11y: string[] = [];
  const shoot = async (name: string) => {
    a11y.push(...(await accessibilityProblems(page)).map((p) => `${name}: ${p}`));
    await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
    a11y.push(...(await accessibilityProblems(page)).map((p) => `${name} (phone): ${p}`));
    await page.setViewportSize(DESKTOP);
  };
  const stateInList = (id: string) => page.locator(`tr[data-channel="${id}"] [data-testid=state]`).textContent();

  await page.goto(`${api}/console/`);
  await page.getByLabel('API token').waitFor();
  await shoot('sign-in');
  await page.getByLabel('API token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').filter({ hasText: 'admin' }).waitFor();
  t.pass('signed in with an admin token');

  // A channel, made in the console: preview first (autoStart off), so Start is the console's too.
  await page.getByRole('button', { name: 'New channel' }).click();
  await page.getByLabel('Id (in URLs; optional)').fill('studio');
  await page.getByLabel('Name').fill('Studio One');
  await page.getByLabel('Live as soon as the publisher connects').uncheck();
  await page.getByLabel('Record each session to a file').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('issued-key').waitFor();
  t.equal(await stateInList('studio'), 'idle', 'the new channel is listed, idle');
  await page.getByRole('button', { name: 'Copy OBS Stream key' }).click();
  const key = await page.evaluate(() => navigator.clipboard.readText());
  t.equal(key, await page.getByTestId('stream-key').inputValue(), 'the key\'s copy button put the key on the clipboard');
  const server = await page.getByTestId('obs-server').inputValue();
  t.match(await page.getByTestId('ffmpeg-line').inputValue(), new RegExp(`-f flv ${server}/${key}$`), 'the ffmpeg line publishes to the server with the key');
  await shoot('channels-new-key');
  await page.getByRole('button', { name: 'I have copied it' }).click();

  const publisher = startPublisher(`${server}/${key}`, { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(publisher));
  const originSays = async (state: string) => {
    await waitUntil(async () => (await call('GET', '/v1/channels/studio')).status?.state === state, 20_000, `studio ${state}`);
    return Date.now();
  };
  const listSays = async (state: string) => {
    await page.locator(`tr[data-channel="studio"] [data-testid=state]`, { hasText: state }).waitFor({ timeout: 20_000 });
    return Date.now();
  };
  const [previewAtOrigin, previewInList] = await Promise.all([originSays('preview'), listSays('preview')]);
  t.ok(previewInList - previewAtOrigin < LIST_MS, `preview shown in the list ${previewInList - previewAtOrigin} ms after the origin's change (no reload)`);
  const [liveInList] = await Promise.all([listSays('live'), page.locator('tr[data-channel="studio"]').getByRole('button', { name: 'Start' }).click()]);
  const liveAtOrigin = Date.now();
  t.equal((await call('GET', '/v1/channels/studio')).status.state, 'live', 'Start in the list made it live');
  t.ok(liveInList - liveAtOrigin < LIST_MS, 'live in the list within 2 s of Start');
  await page.getByTestId('notice').filter({ hasText: 'studio is live' }).waitFor();
  t.pass('the action confirmed in the status line');
  await shoot('channels');

  // The channel page: preview, charts, thumbnails.
  await page.getByRole('link', { name: 'Studio One' }).click();
  await page.getByRole('heading', { name: /Studio One/ }).waitFor();
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=preview]') as HTMLVideoElement | null;
    return v !== null && v.currentTime > 2 && !v.paused;
  }, undefined, { timeout: 30_000 });
  const latencyText = await page.getByTestId('preview-latency').textContent();
  t.match(latencyText, /^\d+\.\d\d s$/, `the preview plays and shows its latency (${latencyText})`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=ingest-charts] [data-points]')]
    .every((c) => Number(c.getAttribute('data-points')) >= 5), undefined, { timeout: 20_000 });
  t.match(await page.getByTestId('ingest-facts').textContent(), /avc1\.\w+ 640×360/, 'ingest health names the stream');
  t.match(await page.getByRole('img', { name: /^Bitrate: video \d/ }).count(), 1, 'the bitrate chart has live readings');
  await page.locator('[data-testid=thumbnails] li').first().waitFor({ timeout: 20_000 });
  t.pass('the DVR window\'s pictures are shown');
  t.equal(await page.getByTestId('renditions').textContent(), 'source', 'the renditions: the source');
  await page.waitForTimeout(8000); // enough media for catchup, and longer charts for the screenshot
  await shoot('channel');

  // A stalled publisher: ffmpeg stopped (SIGSTOP) with its connection open.
  publisher.kill('SIGSTOP');
  const stalledAt = Date.now();
  await page.locator('[data-testid=alerts] li[data-rule=publisherStalled]').waitFor({ timeout: 15_000 });
  t.pass(`the publisherStalled alert appeared ${Date.now() - stalledAt} ms after the publisher stalled`);
  await shoot('channel-alert');
  publisher.kill('SIGKILL');
  await page.locator('[data-testid=events] li[data-type="channel.ended"]').waitFor({ timeout: 20_000 });
  const types = await page.locator('[data-testid=events] li').evaluateAll((lis) => lis.map((l) => l.getAttribute('data-type')));
  for (const type of ['channel.preview', 'channel.live', 'alert.raised', 'channel.ended']) t.ok(types.includes(type), `the timeline lists ${type}`);
  await page.getByTestId('preview-off').waitFor();

  // Catchup: the session on the timeline, picked and played.
  await page.locator('[data-testid=sessions] button').first().click();
  await page.getByRole('button', { name: 'Play range' }).click();
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=catchup]') as HTMLVideoElement | null;
    return v !== null && v.currentTime > 2;
  }, undefined, { timeout: 30_000 });
  t.pass('the session\'s catchup range plays');
  await shoot('channel-catchup');

  // The session's recording: listed once finalized, downloaded through the page (the API wants the token).
  await page.locator('[data-testid=recordings] tbody tr').first().waitFor({ timeout: 20_000 });
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByTestId('recordings').getByRole('button', { name: 'Download' }).first().click()]);
  const saved = await download.path();
  t.ok(statSync(saved).size > 100_000, `the recording downloads (${download.suggestedFilename()}, ${statSync(saved).size} bytes)`);

  await page.getByRole('link', { name: 'Analytics' }).click();
  await page.getByTestId('totals').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=per-channel] tbody tr td')].every((td) => td.textContent !== '…'));
  t.ok(Number(await page.locator('[data-testid=totals] dd').first().textContent()) >= 1, 'analytics: the preview player was counted as a viewer');
  await shoot('analytics');
  await page.getByRole('link', { name: 'Operations' }).click();
  await page.getByTestId('readiness').filter({ hasText: 'ready' }).waitFor();
  await page.getByTestId('api-tokens').getByText('viewer dashboard').waitFor();
  await page.getByTestId('webhooks').getByRole('button', { name: 'Deliveries' }).click();
  await page.getByTestId('deliveries').getByText('delivered').first().waitFor();
  const before = receiver.received.length;
  await page.getByTestId('deliveries').getByRole('button', { name: 'Redeliver' }).first().click();
  await page.getByTestId('notice').filter({ hasText: /queued again/ }).waitFor();
  await waitUntil(async () => receiver.received.length > before, 10_000, 'the redelivery');
  t.pass('a webhook delivery redelivered from the console reached the endpoint');
  await shoot('operations');
  t.same(errors, [], 'no error in the browser console');

  // Read-only: the same console without a write button.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').fill(readOnly);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').filter({ hasText: 'read' }).waitFor();
  await page.getByRole('link', { name: 'Channels' }).click();
  await page.locator('tr[data-channel="studio"]').waitFor();
  t.equal(await page.getByRole('button', { name: 'New channel' }).count(), 0, 'read-only: no New channel');
  t.equal(await page.getByRole('button', { name: /^(Start|Stop|Delete)/ }).count(), 0, 'read-only: no Start, Stop or Delete in the list');
  await page.getByRole('link', { name: 'Studio One' }).click();
  await page.getByTestId('stream-keys').waitFor();
  t.equal(await page.getByRole('button', { name: /^(Edit|Delete|Rotate|Revoke|New key)$/ }).count(), 0, 'read-only: no write button on the channel page');
  await shoot('channel-read-only');
  await page.getByRole('link', { name: 'Operations' }).click();
  await page.getByText('Webhooks and API tokens need an admin token.').waitFor();
  t.equal(await page.getByRole('button', { name: /Create token|Add webhook/ }).count(), 0, 'read-only: no token or webhook forms');
  t.same(errors, [], 'still no error in the browser console');
  t.same(a11y, [], 'every page: each control labelled, each button and link named, text contrast WCAG AA');

  // The keyboard: the skip link first, then the navigation, each with a visible focus ring.
  await page.reload();
  await page.getByTestId('who').waitFor();
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the page', 'Tab: the skip link first');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Channels', 'then the navigation');
  t.not(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'none', 'the focused link shows a focus ring');
  await page.keyboard.press('Enter');
  await page.locator('tr[data-channel="studio"]').waitFor();
  t.pass('Enter on a link follows it');

  // Refusals show the API's message: a wrong token, then a taken channel id.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').fill('not-a-token-of-this-origin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  t.match(await page.getByRole('alert').textContent(), /unknown or revoked.*UNAUTHORIZED/, 'a wrong token: the API\'s message');
  await page.getByLabel('API token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Channels' }).click();
  await page.getByRole('button', { name: 'New channel' }).click();
  await page.getByLabel('Id (in URLs; optional)').fill('studio');
  await page.getByLabel('Name').fill('Again');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('notice').filter({ hasText: 'CHANNEL_ID_TAKEN' }).waitFor();
  t.pass('a taken id: the API\'s error in the status line');
});
