import type { Config } from '../config/schema.js';
import type { OriginAddresses } from '../origin.js';

/**
 * The addresses people are given: players and API responses use `publicUrl` when the origin
 * sits behind a proxy or a CDN, else the local HTTP port; broadcasters get the RTMP port on
 * the same host.
 */
export class PublicUrls {
  constructor(private readonly config: Pick<Config, 'publicUrl'>, private readonly addresses: OriginAddresses) {}

  /** e.g. http://127.0.0.1:8080, without a trailing slash. */
  playbackBase(): string {
    const a = this.addresses;
    return this.config.publicUrl?.replace(/\/$/, '') ?? `http://127.0.0.1:${a.http ?? a.h2c ?? 8080}`;
  }

  /** OBS's "Server": rtmp://host:port/live. */
  publishServer(): string {
    const host = this.config.publicUrl ? new URL(this.config.publicUrl).hostname : '127.0.0.1';
    return `rtmp://${host}:${this.addresses.rtmp ?? 1935}/live`;
  }

  /** The REST API's base, e.g. http://127.0.0.1:8081/v1. */
  apiBase(): string {
    const host = this.config.publicUrl ? new URL(this.config.publicUrl).hostname : '127.0.0.1';
    return `http://${host}:${this.addresses.api ?? 8081}/v1`;
  }
}
