import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { ChannelRegistry } from './media/channel-registry.js';
import type { PipelineFactory } from './media/channel.js';
import { CmafPipeline } from './addon/cmaf-pipeline.js';
import { Thumbnailer } from './addon/thumbnailer.js';
import type { ThumbnailerFactory } from './media/thumbnails/channel-thumbnails.js';
import { ThumbnailPaths } from './media/thumbnails/thumbnail-layout.js';
import { RtmpServer, type PublishDecision, type PublishRequest } from './ingest/rtmp/index.js';
import { OriginHandler } from './delivery/handler.js';
import type { HttpServerAdapter } from './delivery/server.js';
import { UwsServer } from './delivery/uws/uws-server.js';
import { NodeHttpServer } from './delivery/node-http/node-http-server.js';
import { Http2Server, Http2CleartextServer } from './delivery/http2/http2-server.js';
import { EventBus } from './events.js';
import { DiskSpaceGuard } from './store/disk/storage-gate.js';
import { RecordingCatalog } from './store/recording/recording-catalog.js';
import { ArchiveSweeper } from './store/archive/archive-sweeper.js';
import { join } from 'node:path';

/** Where each listener ended up (ports may be 0 in the config: tests bind ephemeral ports). */
export interface OriginAddresses {
  rtmp?: number;
  http?: number;
  http2?: number;
  h2c?: number;
}

const nativePipeline: PipelineFactory = (opts, onChunk, onError, ladder) => new CmafPipeline(opts, onChunk, onError, ladder);
const nativeThumbnailer: ThumbnailerFactory = (opts, handlers) => new Thumbnailer(opts, handlers);

/**
 * The composition root: builds the stages in data-path order (channels ▶ ingest ▶ delivery)
 * and closes them in reverse. Constructors do no I/O; start() binds the ports.
 */
export class Origin {
  readonly channels: ChannelRegistry;
  readonly handler: OriginHandler;
  private rtmp: RtmpServer | undefined;
  private readonly http: { name: keyof OriginAddresses; server: HttpServerAdapter }[] = [];
  readonly addresses: OriginAddresses = {};
  readonly events = new EventBus();
  readonly disk: DiskSpaceGuard;
  readonly sweeper: ArchiveSweeper | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly config: Config, private readonly log: Logger, createPipeline: PipelineFactory = nativePipeline) {
    const mb = 1024 * 1024;
    this.disk = new DiskSpaceGuard({
      dataDir: config.dataDir, minFreeBytes: config.storage.minFreeMb * mb, resumeMarginBytes: config.storage.resumeMarginMb * mb,
      checkIntervalMs: config.storage.checkIntervalSec * 1000, events: this.events, logger: log,
    });
    this.channels = new ChannelRegistry(config, createPipeline, log, { gate: this.disk, events: this.events, createThumbnailer: nativeThumbnailer });
    this.sweeper = config.archive.enabled ? new ArchiveSweeper({
      archives: () => config.channels.flatMap((c) => {
        const archive = this.channels.get(c.id)?.archive;
        return archive ? [{ archive, retentionMs: (c.retentionHours ?? config.archive.retentionHours) * 3_600_000,
          hourTrees: [ThumbnailPaths.channel(config.dataDir, c.id)] }] : [];
      }),
      intervalMs: config.archive.sweepIntervalSec * 1000,
      logger: log,
    }) : undefined;
    this.handler = new OriginHandler(this.channels, log.child({ component: 'delivery' }));
  }

  /** Decides a publish: known key, channel not already live (a second publisher is refused). */
  private decidePublish(req: PublishRequest): PublishDecision {
    const channel = this.channels.byStreamKey(req.streamKey);
    if (!channel) return { accept: false, reason: 'unknown stream key', code: 'NetStream.Publish.BadName' };
    if (channel.isPublishing) {
      return { accept: false, reason: `channel ${channel.id} already has a publisher`, code: 'NetStream.Publish.BadName' };
    }
    return { accept: true, channelId: channel.id, sink: channel.startPublication(req.remoteAddress) };
  }

  async start(): Promise<OriginAddresses> {
    const c = this.config;
    await mkdir(c.dataDir, { recursive: true });
    await this.disk.start();
    // The DVR windows come back before anyone can publish or play; recordings a crash left
    // open are cut at their last whole part and closed.
    await this.channels.restore();
    await new RecordingCatalog(join(c.dataDir, 'recordings')).recover(this.log.child({ component: 'recording' }));
    this.sweeper?.start();
    const handle = this.handler.handle.bind(this.handler);
    if (c.http.enabled) {
      const opts = { host: c.http.host, port: c.http.port, handle, logger: this.log.child({ component: 'http', server: c.http.server }) };
      this.http.push({ name: 'http', server: c.http.server === 'uws' ? new UwsServer(opts) : new NodeHttpServer(opts) });
    }
    if (c.http2.enabled) {
      const logger = this.log.child({ component: 'http2' });
      this.http.push({ name: 'http2', server: new Http2Server({ host: c.http2.host, port: c.http2.port, handle, logger,
        certFile: c.http2.certFile, keyFile: c.http2.keyFile, dataDir: c.dataDir }) });
      if (c.http2.cleartextPort !== null) {
        this.http.push({ name: 'h2c', server: new Http2CleartextServer({ host: c.http2.host, port: c.http2.cleartextPort, handle, logger }) });
      }
    }
    for (const { name, server } of this.http) this.addresses[name] = await server.listen();
    if (c.rtmp.enabled) {
      this.rtmp = new RtmpServer({
        host: c.rtmp.host, port: c.rtmp.port, idleTimeoutMs: c.rtmp.idleTimeoutSec * 1000,
        maxConnections: c.rtmp.maxConnections, logger: this.log, onPublish: (req) => this.decidePublish(req),
      });
      await this.rtmp.start();
      this.addresses.rtmp = this.rtmp.address();
    }
    return this.addresses;
  }

  /** Stops ingest first (publishers flush their last part), then channels, then delivery. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.sweeper?.stop();
      await this.rtmp?.close();
      await this.channels.close();
      this.disk.stop();
      for (const { server } of [...this.http].reverse()) await server.close();
    })();
    return this.closing;
  }
}
