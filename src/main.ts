import { loadConfig, ConfigError } from './config/load.js';
import { cliAction, packageVersion, USAGE } from './config/cli.js';
import type { Config } from './config/schema.js';
import { createLogger } from './log.js';
import { Origin, type OriginAddresses } from './origin.js';
import { GracefulShutdown } from './ops/graceful-shutdown.js';

/** The URLs a person needs after `npm start`, per channel. */
function channelUrls(config: Config, addr: OriginAddresses) {
  const base = config.publicUrl?.replace(/\/$/, '') ?? `http://127.0.0.1:${addr.http ?? addr.h2c ?? 8080}`;
  const rtmpHost = config.publicUrl ? new URL(config.publicUrl).hostname : '127.0.0.1';
  return config.channels.map((c) => ({
    channel: c.id,
    latencyMode: c.latencyMode,
    publish: `rtmp://${rtmpHost}:${addr.rtmp}/live/${c.streamKey}`,
    obs: { server: `rtmp://${rtmpHost}:${addr.rtmp}/live`, streamKey: c.streamKey },
    // OBS's SRT server field takes the streamid (and passphrase) in the URL itself.
    srt: addr.srt === undefined ? undefined
      : `srt://${rtmpHost}:${addr.srt}?streamid=#!::r=live/${c.streamKey},m=publish${c.srtPassphrase ? '&passphrase=<the channel\'s srtPassphrase>' : ''}`,
    // Only when WHIP is on (it needs the API): the Go-live page with the channel prefilled.
    goLive: addr.api === undefined || !config.whip.enabled ? undefined : `http://${rtmpHost}:${addr.api}/go-live#channel=${c.id}`,
    playback: `${base}/live/${c.id}/index.m3u8`,
    player: `${base}/player/${c.id}`,
  }));
}

async function main(): Promise<void> {
  const action = cliAction(process.argv.slice(2));
  if (action) {
    process.stdout.write(action === 'help' ? USAGE : `${packageVersion()}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.log.level);
  const origin = new Origin(config, log, undefined, (line) => process.stderr.write(`${line}\n`));
  const drainMs = config.shutdown.drainSec * 1000;
  const shutdown = new GracefulShutdown({ readiness: origin.readiness, drainMs, close: () => origin.close(), logger: log.child({ component: 'shutdown' }) });
  let stopping = false;
  const stop = (signal: string) => {
    const closed = shutdown.begin(signal);
    if (stopping) return;
    stopping = true;
    // close() gets 10 s once the drain is over; a stuck close must not keep the process alive.
    const force = setTimeout(() => { log.error({ reason: 'close() took over 10 s after the drain' }, 'forced exit'); process.exit(1); }, drainMs + 10_000);
    force.unref();
    closed.then(() => process.exit(0), (err) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const addr = await origin.start();
  log.info({ addresses: addr }, 'origin listening');
  for (const u of channelUrls(config, addr)) {
    // Copy-paste lines for a person at the terminal (stderr, so stdout stays pure JSON logs).
    process.stderr.write(`\nchannel "${u.channel}" (${u.latencyMode})\n` +
      `  publish:  ffmpeg -re -i INPUT -c:v libx264 -g 60 -c:a aac -f flv ${u.publish}\n` +
      `  OBS:      server ${u.obs.server}  stream key ${u.obs.streamKey}\n` +
      (u.srt ? `  SRT:      ${u.srt} (OBS: this as the server, stream key empty; ffmpeg: -f mpegts)\n` : '') +
      (u.goLive ? `  browser:  ${u.goLive} (the Go-live page, WHIP: give the stream key)\n` : '') +
      `  playback: ${u.playback}\n  player:   ${u.player}\n`);
  }
  // Always, with or without channels in the config (API channels, a first start without the demo): where any channel plays.
  process.stderr.write(`\nHLS:      ${origin.urls.playbackBase()}/live/<channel>/index.m3u8 (player page: ${origin.urls.playbackBase()}/player/<channel>)\n`);
  if (addr.api !== undefined) {
    process.stderr.write(`REST API: ${origin.urls.apiBase()} (OpenAPI: ${origin.urls.apiBase()}/openapi.json)\n`);
    process.stderr.write(`console:  ${origin.urls.apiBase().replace(/\/v1$/, '')}/console/ (sign in with an API token)\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`fatal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
