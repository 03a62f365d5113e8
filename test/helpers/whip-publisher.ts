/**
 * A browser broadcaster: Debian's Chromium with its fake camera and microphone
 * (--use-fake-device-for-media-stream; no permission prompt) going live from the origin's
 * Go-live page over WHIP, as a person would: the page opens the camera, the test fills nothing
 * in but what the fragment prefills, and clicks "Go live".
 *
 * For glass-to-glass, the camera's pictures pass through a canvas that burns the wall clock
 * into their top strip in the layout of burned-clock.ts (the page's getUserMedia is wrapped
 * before the page runs): the time is drawn when the frame is captured, as ffmpeg's filter stamps
 * it before its encoder, so the browser's encoder, WebRTC and the origin all count.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.js';

export function launchPublisherBrowser(): Promise<Browser> {
  return launchChromium({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
}

export interface GoLiveOptions {
  /** The API's base, e.g. http://127.0.0.1:8081 (the page and WHIP live there). */
  api: string;
  channel: string;
  /** The stream key or a publish token. */
  credential: string;
  /** Burn the wall clock into the picture (640x360, 30 fps canvas). */
  burnedClock?: boolean;
  quality?: '360' | '540' | '720' | '1080';
}

export interface GoLiveState {
  live: boolean;
  errors: string[];
  latencies: number[];
  status: string;
}

/** Opens the Go-live page and clicks "Go live"; resolves when the page says it is live (or rejects with what it said). */
export async function goLive(browser: Browser, o: GoLiveOptions): Promise<{ page: Page; state(): Promise<GoLiveState>; stop(): Promise<void> }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  if (o.burnedClock) await page.addInitScript(burnClockIntoCamera);
  await page.goto(`${o.api}/go-live#channel=${encodeURIComponent(o.channel)}&token=${encodeURIComponent(o.credential)}`);
  await page.selectOption('#quality', o.quality ?? '360');
  await page.click('#go');
  const state = () => page.evaluate(() => {
    const s = (window as any).sigmaGoLive;
    return { live: s.live, errors: s.errors.slice(), latencies: s.latencies.slice(), status: document.getElementById('status')!.textContent ?? '' };
  });
  await page.waitForFunction(() => /^Live on|^Could not/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 20_000 });
  const s = await state();
  if (!/^Live on/.test(s.status)) throw new Error(`the Go-live page did not go live: ${s.status}${pageErrors.length ? `; page errors: ${pageErrors.join('; ')}` : ''}`);
  return {
    page, state,
    async stop() {
      await page.click('#go').catch(() => undefined);
      await page.close().catch(() => undefined);
    },
  };
}

/** Runs in the page before its own script: getUserMedia's video comes through a canvas with the clock strip. */
function burnClockIntoCamera(): void {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    const camera = await original(constraints);
    const width = 640, height = 360, bits = 32, block = width / bits;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext('2d')!;
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream(camera.getVideoTracks());
    await video.play();
    const draw = () => {
      g.drawImage(video, 0, 0, width, height);
      const now = Date.now() % 2 ** 32;
      for (let i = 0; i < bits; i++) {
        const bit = Math.floor(now / 2 ** i) % 2;
        g.fillStyle = bit ? '#fff' : '#000';
        g.fillRect(Math.round(i * block), 0, Math.round((i + 1) * block) - Math.round(i * block), block);
        const col = (i + bits / 2) % bits;
        g.fillStyle = bit ? '#000' : '#fff';
        g.fillRect(Math.round(col * block), block, Math.round((col + 1) * block) - Math.round(col * block), block);
      }
    };
    draw();
    setInterval(draw, 1000 / 30);
    return new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...camera.getAudioTracks()]);
  };
}
