import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { DEMO_CHANNEL, type Config } from './config/schema.js';
import { ChannelRegistry } from './media/channel-registry.js';
import type { Channel, PipelineFactory } from './media/channel.js';
import { CmafPipeline } from './addon/cmaf-pipeline.js';
import { Thumbnailer } from './addon/thumbnailer.js';
import { startMemoryTrim } from './addon/memory-trim.js';
import { encodeSlate } from './addon/slate-encoder.js';
import { SlateMaker } from './media/slate/slate-maker.js';
import type { ThumbnailerFactory } from './media/thumbnails/channel-thumbnails.js';
import { ThumbnailPaths } from './media/thumbnails/thumbnail-layout.js';
import { RtmpServer, type PublishRequest } from './ingest/rtmp/index.js';
import { loadTlsMaterial } from './tls/tls-material.js';
import { RestreamService } from './restream/restream-service.js';
import { SrtIngest } from './ingest/srt/srt-ingest.js';
import { WhipIngest } from './ingest/whip/whip-ingest.js';
import { nativeOpusTranscoder } from './ingest/whip/native-opus-transcoder.js';
import { PublishTokens } from './control/publish-tokens.js';
import { OriginHandler } from './delivery/handler.js';
import type { HttpServerAdapter } from './delivery/server.js';
import { UwsServer } from './delivery/uws/uws-server.js';
import { NodeHttpServer } from './delivery/node-http/node-http-server.js';
import { Http2Server, Http2CleartextServer } from './delivery/http2/http2-server.js';
import { EventBus } from './events.js';
import { DiskSpaceGuard } from './store/disk/storage-gate.js';
import { RecordingCatalog } from './store/recording/recording-catalog.js';
import { ArchiveSweeper } from './store/archive/archive-sweeper.js';
import { ObjectStorage } from './store/object/object-storage.js';
import { join } from 'node:path';
import { ChangeFeed, databaseUrlOf, openDatabase, parseDatabaseUrl, type Database } from './db/index.js';
import { SharedChannels } from './control/shared-channels.js';
import { ChannelPlacement } from './control/placement.js';
import { loadServerKeys, type ServerKeys } from './control/server-secret.js';
import { PublishAuthorizer } from './control/publish-authorizer.js';
import { PublicUrls } from './control/public-urls.js';
import { EventRecorder } from './control/event-recorder.js';
import { PlaybackTokens } from './delivery/access/playback-tokens.js';
import { createApiServer, ensureAdminToken, type ApiServer } from './api/index.js';
import { OriginRuntime } from './control/origin-runtime.js';
import { WebhookSender } from './control/webhooks/index.js';
import { OriginMetrics } from './ops/metrics/index.js';
import { Readiness } from './ops/readiness.js';
import { originReadinessChecks } from './ops/origin-readiness.js';
import { DiskWatch, EndpointFailures, startOriginAlerts, type OriginAlerts } from './ops/alerts/index.js';
import { ViewerAnalytics } from './analytics/viewer-analytics.js';
import { SessionIds } from './analytics/session-key.js';
import { requestToken } from './delivery/access/playback-gate.js';
import type { OriginRequest } from './delivery/types.js';

/** Where each listener ended up (ports may be 0 in the config: tests bind ephemeral ports). */
export interface OriginAddresses {
  rtmp?: number;
  rtmps?: number;
  /** UDP. */
  srt?: number;
  http?: number;
  http2?: number;
  h2c?: number;
  api?: number;
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
  private rtmps: RtmpServer | undefined;
  private srt: SrtIngest | undefined;
  private whip: WhipIngest | undefined;
  /** Every channel's restream targets (issue 20). */
  readonly restream: RestreamService;
  /** PostgreSQL change notices: other origins' channel changes (several origins on one database). */
  private changeFeed: ChangeFeed | undefined;
  /** Which origin each channel is live on (cluster.originUrl set). */
  private placement: ChannelPlacement | undefined;
  private readonly http: { name: keyof OriginAddresses; server: HttpServerAdapter }[] = [];
  readonly addresses: OriginAddresses = {};
  readonly events = new EventBus();
  /** What the origin-wide alert rules read: subscribed before the disk guard's first check can emit. */
  private readonly diskWatch = new DiskWatch(this.events);
  private readonly webhookFailures = new EndpointFailures();
  /** The alert rules, evaluated once started (activeAlerts() for /metrics). */
  alerts: OriginAlerts | undefined;
  readonly disk: DiskSpaceGuard;
  readonly sweeper: ArchiveSweeper | undefined;
  /** The archive and recordings on S3-compatible object storage (config objectStore.bucket). */
  readonly objects: ObjectStorage | undefined;
  readonly urls: PublicUrls;
  /** /readyz on the HTTP and API ports; main marks it shutting down on SIGTERM. */
  readonly readiness: Readiness;
  /** The control plane's database and keys, open once start() has run. */
  db: Database | undefined;
  keys: ServerKeys | undefined;
  /** Every event stored (with its webhook outbox rows) and the webhooks delivered, once started. */
  recorder: EventRecorder | undefined;
  webhooks: WebhookSender | undefined;
  /** Signs and checks playback tokens (the key comes with the server keys at start). */
  playbackTokens: PlaybackTokens | undefined;
  private api: ApiServer | undefined;
  /** Prometheus metrics, served on the API port at /metrics (config metrics.enabled). */
  readonly metrics: OriginMetrics<Channel> | undefined;
  /** Viewer analytics (config analytics.enabled): the ViewerEventSink the beacon route feeds too. */
  readonly analytics: ViewerAnalytics | undefined;
  private stopMemoryTrim: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  /**
   * `print` shows a person at the console what must never reach the log (the first admin API
   * token); main passes stderr.
   */
  constructor(private readonly config: Config, private readonly log: Logger, createPipeline: PipelineFactory = nativePipeline,
    private readonly print: (line: string) => void = () => {}) {
    const mb = 1024 * 1024;
    this.disk = new DiskSpaceGuard({
      dataDir: config.dataDir, minFreeBytes: config.storage.minFreeMb * mb, resumeMarginBytes: config.storage.resumeMarginMb * mb,
      checkIntervalMs: config.storage.checkIntervalSec * 1000, events: this.events, logger: log,
    });
    const slates = new SlateMaker(encodeSlate, log.child({ component: 'slate' }));
    this.objects = ObjectStorage.fromConfig(config, this.events, log);
    this.restream = new RestreamService({ config, events: this.events, logger: log });
    const restream = this.restream;
    this.channels = new ChannelRegistry(config, createPipeline, log, { gate: this.disk, events: this.events, createThumbnailer: nativeThumbnailer,
      archiveFiles: this.objects?.files, sourceTaps: (id) => restream.tapsFor(id),
      slate: (channelId, settings, tracks) => slates.clip(channelId, settings, tracks) });
    this.sweeper = config.archive.enabled ? new ArchiveSweeper({
      archives: () => this.channels.archived().map(({ channel, retentionMs }) => ({
        archive: channel.archive!, retentionMs, hourTrees: [ThumbnailPaths.channel(config.dataDir, channel.id)],
      })),
      intervalMs: config.archive.sweepIntervalSec * 1000,
      logger: log,
    }) : undefined;
    this.handler = new OriginHandler(this.channels, log.child({ component: 'delivery' }));
    this.urls = new PublicUrls(config, this.addresses);
    this.metrics = config.metrics.enabled ? new OriginMetrics({
      channels: () => this.channels.all(), isChannel: (id) => this.channels.get(id) !== undefined,
      ingestOf: (ch) => ch.ingest(), webhooks: () => this.webhooks, token: config.metrics.token,
      objectStore: () => this.objects?.metered(), restream: () => this.restream.all(),
    }) : undefined;
    if (this.metrics) this.handler.observeReplies(this.metrics.http);
    this.readiness = new Readiness({ logger: log.child({ component: 'readiness' }),
      checks: originReadinessChecks({ config, addresses: this.addresses, database: () => this.db, disk: this.disk }) });
    this.handler.useReadiness(this.readiness);
    if (config.analytics.enabled) {
      this.analytics = new ViewerAnalytics({
        settings: config.analytics, logger: log.child({ component: 'analytics' }),
        channelOf: (id) => {
          const p = this.channels.get(id)?.profile;
          return p && { latencyMode: p.mode, targetDurationSec: Math.max(1, Math.round(p.segmentTargetSec)) };
        },
        tokenSession: (req, channel) => this.tokenSession(req, channel),
      });
      this.handler.countViewers(this.analytics.requests);
    }
  }

  /** Whether a channel's viewers are told apart by their playback tokens: it asks for tokens (now, or in preview). */
  private keysViewersByToken(channel: string): boolean {
    const access = this.channels.access(channel);
    return access !== undefined && (access.tokenRequired || access.preview);
  }

  /** The jti of a request's playback token, on a channel that asks for tokens (the gate has verified it: a cache hit). */
  private tokenSession(req: OriginRequest, channel: string): string | undefined {
    if (!this.keysViewersByToken(channel)) return undefined;
    const token = requestToken(req);
    const check = token ? this.playbackTokens?.known(token, channel) : undefined;
    return check?.ok ? check.sessionId : undefined;
  }

  /** The REST control API on its own port, over the database and this origin's channels. */
  private async startApi(db: Database, authorizer: PublishAuthorizer): Promise<void> {
    const c = this.config, keys = this.keys!, logger = this.log.child({ component: 'api' });
    const publishTokens = new PublishTokens(keys.publishTokens);
    if (c.whip.enabled) {
      this.whip = new WhipIngest({ logger: this.log, maxSessions: c.whip.maxSessions, connectTimeoutMs: c.whip.connectTimeoutSec * 1000,
        ...(c.whip.udpPortRange ? { portRange: c.whip.udpPortRange } : {}), maxBitrate: c.whip.maxBitrate,
        // Half the segment target (1 s in ultra-low, as OBS's recommended 1-2 s and the RTMP sources measured): a player joins,
        // and a segment starts, at most that long after its target; within 0.5..2 s.
        keyframeIntervalMsOf: (id) => Math.min(2000, Math.max(500, (this.channels.get(id)?.profile.segmentTargetMs ?? 2000) / 2)),
        check: (req) => authorizer.check(req), checkChannel: (id, input, address) => authorizer.checkChannel(id, input, address),
        admit: (checked, req) => authorizer.admit(checked, req), tokens: publishTokens,
        newTranscoder: nativeOpusTranscoder({ bitrate: c.whip.audioBitrate }) });
    }
    await ensureAdminToken({ db, keys, configured: c.api.adminToken, logger, print: this.print });
    const runtime = new OriginRuntime({
      config: c, channels: this.channels, tokens: this.playbackTokens!, logger,
      publicUrl: () => this.urls.playbackBase(), publishServer: () => this.urls.publishServer(), apiBase: () => this.urls.apiBase(), placement: () => this.placement,
      recordingStore: this.objects?.recordings, restream: this.restream,
    });
    this.api = createApiServer({ db, runtime, keys, logger, maxFailedAuthPerMinute: c.api.maxFailedAuthPerMinute,
      onRedeliver: () => this.webhooks?.wake(), transcodeLadders: c.transcode.ladders, readiness: this.readiness, metrics: this.metrics?.api,
      viewers: this.analytics, keysViewersByToken: (id) => this.keysViewersByToken(id),
      whip: { ingest: this.whip, tokens: publishTokens,
        playbackBase: () => (c.publicUrl ? { url: c.publicUrl } : { port: this.addresses.http ?? this.addresses.h2c ?? 8080 }) } });
    this.addresses.api = await this.api.listen(c.api.host, c.api.port);
    // Behind a proxy or CDN (publicUrl), it routes /v1/beacon to the API; else the page posts to the API's port on its own host.
    this.handler.useBeaconTarget(c.publicUrl ? { url: `${c.publicUrl.replace(/\/$/, '')}/v1/beacon` } : { port: this.addresses.api });
  }

  async start(): Promise<OriginAddresses> {
    const c = this.config;
    await mkdir(c.dataDir, { recursive: true });
    await this.disk.start();
    this.keys = await loadServerKeys({ secret: c.secret, playbackTokenSecret: c.playback.tokenSecret, dataDir: c.dataDir });
    this.playbackTokens = new PlaybackTokens(this.keys.playbackTokens);
    // Sids under the server's key: POST /v1/beacon (on any origin sharing the secret) checks them.
    this.analytics?.requests.useSessionIds(new SessionIds(this.keys.playbackTokens));
    this.handler.usePlaybackTokens(this.playbackTokens);
    const db = this.db = await openDatabase(databaseUrlOf(c), { logger: this.log.child({ component: 'database' }) });
    const configIds = new Set(c.channels.map((ch) => ch.id));
    const shared = new SharedChannels({ repo: db.channels, registry: this.channels, configIds,
      logger: this.log.child({ component: 'channels' }),
      onCreated: (id) => void this.restream.load(id).catch((err) => this.log.warn({ err, channel: id }, 'cannot read the restream targets')) });
    await shared.loadAll();
    this.startDemo(configIds);
    this.restream.useStore(db.restreamTargets, this.keys.restreamUrls);
    await this.restream.loadAll(this.channels.all().map((ch) => ch.id));
    // Several origins on one PostgreSQL: another's channel changes reach this one within a second.
    const target = parseDatabaseUrl(databaseUrlOf(c));
    if (target.kind === 'postgres') {
      this.changeFeed = new ChangeFeed({ connectionString: target.connectionString, logger: this.log.child({ component: 'change-notices' }),
        onChange: (n) => {
          if (n.table === 'channels') void shared.changed(n.id);
          else if (n.table === 'channel_placements') void this.placement?.changed(n.id);
          else if (n.table === 'restream_targets') void this.restream.load(n.id).catch((err) => this.log.warn({ err, channel: n.id }, 'cannot read the restream targets'));
        },
        onResync: () => {
          void shared.resync();
          void this.placement?.reload().catch((err) => this.log.warn({ err }, 'cannot read the placements'));
          void this.restream.loadAll(this.channels.all().map((ch) => ch.id));
        } });
      await this.changeFeed.start();
    }
    const w = c.webhooks;
    this.webhooks = new WebhookSender({ outbox: db.outbox, logger: this.log.child({ component: 'webhooks' }),
      timeoutSec: w.timeoutSec, retryForHours: w.retryForHours, concurrency: w.concurrency,
      onAttempt: (endpointId, ok, error) => this.webhookFailures.record(endpointId, ok, error) });
    this.webhooks.start();
    // Subscribed before anything can emit (restore, publishers), so every event is stored.
    this.recorder = new EventRecorder({ bus: this.events, db, logger: this.log, sender: this.webhooks });
    // The DVR windows come back before anyone can publish or play; recordings a crash left
    // open are cut at their last whole part and closed.
    await this.channels.restore();
    await new RecordingCatalog(join(c.dataDir, 'recordings')).recover(this.log.child({ component: 'recording' }));
    this.alerts = await startOriginAlerts({ config: c, channels: this.channels, events: this.events, logger: this.log, store: db.alerts,
      disk: this.diskWatch, webhooks: this.webhookFailures,
      objectStoreOldestSec: this.objects && (() => this.objects!.metered().oldestWaitingSec) });
    const engine = this.alerts.engine;
    this.metrics?.useAlerts(() => engine.activeAlerts().map(({ rule, channel }) => (channel === null ? { rule } : { rule, channel })));
    this.sweeper?.start();
    this.stopMemoryTrim = startMemoryTrim(c.memory.trimIntervalSec * 1000, this.log.child({ component: 'memory' }));
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
    const originId = c.analytics.originId ?? `${hostname()}:${this.addresses.http ?? this.addresses.http2 ?? 0}`;
    this.analytics?.start(db.analytics, originId);
    if (this.objects) await this.startObjectStorage(this.objects, originId);
    if (c.cluster.originUrl) {
      // Before ingest opens: the first publisher's channel is placed here.
      this.placement = new ChannelPlacement({ repo: db.placements, originId, originUrl: c.cluster.originUrl, leaseMs: c.cluster.leaseSec * 1000,
        events: this.events, channels: { publishing: (id) => hasSession(this.channels.get(id)?.state) }, logger: this.log.child({ component: 'placement' }) });
      await this.placement.start();
      const placement = this.placement;
      this.handler.usePlacement({ elsewhere: (id) => placement.elsewhere(id), lost: (id, url) => placement.lost(id, url),
        comebackUntil: (id) => placement.comebackUntil(id), mode: c.cluster.playback });
    }
    const authorizer = new PublishAuthorizer({ channels: this.channels, logger: this.log.child({ component: 'publish' }),
      streamKeys: { repo: db.streamKeys, hash: this.keys.streamKeys } });
    if (c.api.enabled) await this.startApi(db, authorizer);
    const rtmpOptions = { idleTimeoutMs: c.rtmp.idleTimeoutSec * 1000, maxConnections: c.rtmp.maxConnections, logger: this.log,
      onPublish: (req: PublishRequest) => authorizer.decide(req) };
    if (c.rtmp.enabled) {
      this.rtmp = new RtmpServer({ ...rtmpOptions, host: c.rtmp.host, port: c.rtmp.port });
      await this.rtmp.start();
      this.addresses.rtmp = this.rtmp.address();
    }
    if (c.srt.enabled) {
      this.srt = new SrtIngest({
        host: c.srt.host, port: c.srt.port, latencyMs: c.srt.latencyMs, maxConnections: c.srt.maxConnections, idleTimeoutMs: c.srt.idleTimeoutSec * 1000,
        logger: this.log, check: (req) => authorizer.check(req), decide: (req) => authorizer.decide(req),
        passphraseOf: (id) => this.channels.settings(id)?.srtPassphrase,
      });
      this.addresses.srt = this.srt.start();
    }
    if (c.rtmps.enabled) {
      const tls = await loadTlsMaterial({ certFile: c.rtmps.certFile, keyFile: c.rtmps.keyFile, dataDir: c.dataDir, logger: this.log.child({ component: 'rtmps' }) });
      this.rtmps = new RtmpServer({ ...rtmpOptions, host: c.rtmps.host, port: c.rtmps.port, tls, component: 'rtmps' });
      await this.rtmps.start();
      this.addresses.rtmps = this.rtmps.address();
    }
    return this.addresses;
  }

  /**
   * The demo channel, whose stream key is public: with `demo: true`, or 'auto' (a first `npm
   * start`: no config file) when no channel exists in the config or the database. It is served
   * as a config channel (main prints its URLs), with one loud warning; PublishAuthorizer refuses
   * its key once another channel exists.
   */
  private startDemo(configIds: Set<string>): void {
    const c = this.config;
    if (c.demo === false || c.channels.length > 0) return;
    const apiChannels = this.channels.apiChannelIds().length;
    if (apiChannels > 0) {
      if (c.demo === true) this.log.warn({ apiChannels }, 'demo: true ignored: API channels exist, and the demo channel\'s public key is never accepted beside another channel');
      return;
    }
    const demo = { ...DEMO_CHANNEL };
    c.channels.push(demo);
    configIds.add(demo.id);
    this.channels.addConfigChannel(demo);
    this.log.warn({ channel: demo.id }, `the demo channel is running with the public stream key "${demo.streamKey}" (README): anyone who reaches the ingest ports can publish to it. ` +
      (c.demo === true ? 'Turn it off: drop --demo (demo: true).'
        : 'It is off once a config file is given or a channel is created through the API; turn it off now with --demo=false or SIGMA__DEMO=false.'));
  }

  /**
   * Uploads begin; what a stop or an outage left only on the local disk is queued again (before
   * ingest opens, so no segment is being written); local copies start to expire.
   */
  private async startObjectStorage(objects: ObjectStorage, originId: string): Promise<void> {
    objects.start(originId);
    const archives = () => this.channels.archived().map(({ channel }) => ({ dir: channel.archive!.dir, channelId: channel.id }));
    let queued = 0;
    for (const { dir, channelId } of archives()) {
      try {
        queued += await objects.files.resync(dir);
        queued += await objects.files.resync(ThumbnailPaths.channel(this.config.dataDir, channelId));
      } catch (err) {
        this.log.warn({ err, channel: channelId }, 'object store: cannot compare the local archive with the store; new segments still go up');
      }
    }
    objects.recordings.start();
    try {
      queued += await objects.recordings.resync();
    } catch (err) {
      this.log.warn({ err }, 'object store: cannot compare the local recordings with the store; new recordings still go up');
    }
    if (queued > 0) this.log.info({ component: 'object-store', queued }, 'object store: uploading what the local disk holds and the store lacks');
    objects.startLocalSweep(archives);
  }

  /** Stops ingest first (publishers flush their last part), then channels, then delivery. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // The API first: no operator action may reach channels that are closing.
      await this.api?.close();
      // Raised alerts stay active in the database: the next start takes them back.
      this.alerts?.stop();
      this.sweeper?.stop();
      this.stopMemoryTrim?.();
      await Promise.all([this.rtmp?.close(), this.rtmps?.close()]);
      this.srt?.close();
      this.whip?.close();
      await this.placement?.close();
      await this.changeFeed?.close();
      await this.channels.close();
      // Restream connections end with the channels (restream.stopped is recorded before the database closes).
      this.restream.close();
      // After the channels: their last segments and recordings are queued; a bounded wait for them.
      await this.objects?.close();
      this.disk.stop();
      // After the channels: their last events (recording.ready) are stored before the database closes.
      await this.recorder?.close();
      await this.webhooks?.close();
      for (const { server } of [...this.http].reverse()) await server.close();
      // After delivery: the last requests are counted, then written before the database closes.
      await this.analytics?.stop();
      await this.db?.close();
    })();
    return this.closing;
  }
}

/** A publish session is on here (a publisher, or the reconnect window keeping its playlist): the channel is placed here. */
function hasSession(state: string | undefined): boolean {
  return state === 'preview' || state === 'live' || state === 'reconnecting';
}
