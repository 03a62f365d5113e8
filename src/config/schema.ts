import { z } from 'zod';
import { resolveLadder } from '../media/transcode/ladder.js';
import { maskedTargetUrl, parseTargetUrl } from '../restream/target-url.js';
import { isIpOrCidr } from '../ingest/allow-list.js';
import { alertsSchema, channelAlertsSchema } from '../ops/alerts/alert-config.js';

/**
 * The one config schema: defaults, validation and (through the README table) documentation.
 * Sources are merged file ▶ env ▶ CLI before this schema validates the result.
 */

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

const modeSettings = (segmentTargetSec: number, partTargetSec: number | null, playlistWindowSec: number) =>
  z.object({
    segmentTargetSec: z.number().min(0.5).max(20).default(segmentTargetSec),
    partTargetSec: z.number().min(0.1).max(2).nullable().default(partTargetSec),
    playlistWindowSec: z.number().min(6).max(3600).default(playlistWindowSec),
    minSegments: z.number().int().min(3).max(100).default(6),
  }).strict()
    .refine((m) => m.partTargetSec === null || m.partTargetSec * 2 <= m.segmentTargetSec,
      { message: 'partTargetSec must be at most half of segmentTargetSec' })
    .default({});

/** Names a rendition may not take: they are other routes under /live/<channel>/. */
const RESERVED_RENDITION_NAMES = new Set(['source', 'index', 'archive', 'thumbnail', 'thumbnails', 'previews', 'player']);

const rungSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'rung name: lowercase letters, digits, "-" and "_", at most 32')
    .refine((n) => !RESERVED_RENDITION_NAMES.has(n), { message: 'rung name is reserved (source, index, archive, thumbnail(s), previews, player)' }),
  height: z.number().int().min(16).max(4320).refine((h) => h % 2 === 0, { message: 'height must be even' }),
  /** Default: the source's aspect ratio at this height. */
  width: z.number().int().min(16).max(7680).refine((w) => w % 2 === 0, { message: 'width must be even' }).optional(),
  videoBitrateKbps: z.number().int().min(50).max(100_000),
  maxFrameRate: z.number().min(1).max(240).optional(),
  profile: z.enum(['baseline', 'main', 'high']).optional(),
}).strict();

const rungRef = z.union([z.string().min(1), rungSchema]);

/**
 * A channel's transcode profile: 'passthrough' (the source only), a ladder name ('hd', 'sd',
 * 'mobile' or one of transcode.ladders), a slash list of rung presets ('720p/480p/360p'), or
 * { rungs: [...preset names or custom rungs], keepSource }.
 */
export const transcodeValue = z.union([
  z.string().min(1),
  z.object({ rungs: z.array(rungRef).min(1).max(8), keepSource: z.boolean().default(true) }).strict(),
]);

const sessionTimeoutSec = z.number().min(2, 'a session timeout must be at least 2 s').max(3600, 'a session timeout must be at most 3600 s').optional();

const evenWidth = (min: number, max: number) => z.number().int().min(min).max(max).multipleOf(2, 'must be even (4:2:0 pictures)');

/** Constraints of the thumbnail keys, once: the top level adds defaults, a channel may override any. */
const thumbnailKeys = {
  enabled: z.boolean(),
  /** A periodic thumbnail at most every this many seconds (at the next keyframe). */
  intervalSec: z.number().min(1).max(3600),
  /** Thumbnail width, pixels; the height follows the source's aspect ratio. */
  width: evenWidth(16, 3840),
  /** JPEG quantizer, 2 (best) … 31 (as ffmpeg's -q:v). */
  quality: z.number().int().min(2).max(31),
};
const previewKeys = {
  /** Sprite sheets + a WebVTT track for scrubbing through the DVR window and catchup. */
  enabled: z.boolean(),
  /** A preview tile at most every this many seconds (at the next keyframe). */
  intervalSec: z.number().min(0.5).max(600),
  tileWidth: evenWidth(16, 1280),
  /** Tiles per sheet: columns × rows. */
  columns: z.number().int().min(1).max(32),
  rows: z.number().int().min(1).max(32),
};

const thumbnailsSchema = z.object({
  enabled: thumbnailKeys.enabled.default(true),
  intervalSec: thumbnailKeys.intervalSec.default(10),
  width: thumbnailKeys.width.default(320),
  quality: thumbnailKeys.quality.default(4),
  preview: z.object({
    enabled: previewKeys.enabled.default(true),
    intervalSec: previewKeys.intervalSec.default(2),
    tileWidth: previewKeys.tileWidth.default(160),
    columns: previewKeys.columns.default(10),
    rows: previewKeys.rows.default(10),
  }).strict().default({}),
}).strict();

const thumbnailsOverride = z.object({ ...thumbnailKeys, preview: z.object(previewKeys).partial().strict() }).partial().strict();

/** The built-in demo channel's stream key: public (README), so no configured channel may use it. */
export const DEMO_STREAM_KEY = 'demo-key';

const streamKey = z.string().min(8, 'streamKey must be at least 8 characters').max(256)
  .regex(/^[A-Za-z0-9._~-]+$/, 'streamKey: letters, digits and . _ ~ - only')
  .refine((k) => k !== DEMO_STREAM_KEY, { message: `"${DEMO_STREAM_KEY}" is the demo channel's public key: choose another` });

/**
 * How a channel with backup inputs switches between them (src/media/inputs/; README "Backup
 * inputs and failover").
 */
export const failoverSchema = z.object({
  /** No media for this long on the active input: it has stalled. Default: 0.9 × the part target in ultra-low mode, one segment target otherwise. */
  stallMs: z.number().int().min(50).max(60_000).optional(),
  /** An input sending less than this (over 2 s) is unhealthy; 0: no floor. */
  minBitrateKbps: z.number().min(0).max(1_000_000).default(0),
  /** auto: back to a higher-priority input once it has been healthy for failbackAfterSec; manual: only through the API. */
  failback: z.enum(['auto', 'manual']).default('auto'),
  failbackAfterSec: z.number().min(0).max(3600).default(10),
  /**
   * What plays while no input is healthy: a generated "stream will resume" card, an image
   * (slateImage, JPEG or PNG), EXT-X-GAP parts and segments ('gap': the playlist goes on at real
   * time with no media; players wait on the last picture), or nothing ('off': players wait; the
   * reconnect window applies). Default: the card once a backup input has connected in the
   * session, else off.
   */
  slate: z.enum(['card', 'image', 'gap', 'off']).optional(),
  slateImage: z.string().min(1).max(4096).optional(),
}).strict().refine((f) => (f.slate === 'image') === (f.slateImage !== undefined),
  { message: "slateImage is required with slate 'image' and only then", path: ['slateImage'] });

export type FailoverConfig = z.infer<typeof failoverSchema>;

/**
 * A restream target: the channel's stream pushed on to another RTMP(S) server (YouTube, Twitch,
 * Facebook, nginx-rtmp, another origin). The URL carries the stream key: a secret, so a refusal
 * never repeats it.
 */
export const restreamTargetSchema = z.object({
  name: z.string().min(1).max(64).optional(),
  url: z.string().max(2048).superRefine((u, ctx) => {
    try {
      parseTargetUrl(u);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `restream URL (${maskedTargetUrl(u)}): ${(err as Error).message}` });
    }
  }),
  /** 'source', or the name of one of the channel's ABR rungs. */
  rendition: z.string().min(1).max(64).default('source'),
  /** Started with the channel's stream; false: only when an operator starts it through the API. */
  enabled: z.boolean().default(true),
}).strict();

export const channelSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'channel id: lowercase letters, digits, "-" and "_", at most 64'),
  streamKey,
  /** Stream keys of hot-standby inputs, in failover order (inputs backup1, backup2, …), each from its own encoder. */
  backupStreamKeys: z.array(streamKey).max(4).default([]),
  failover: failoverSchema.default({}),
  latencyMode: z.enum(['normal', 'low', 'ultra-low']).default('ultra-low'),
  /** DVR window of the live playlist, seconds; default dvr.windowSec; 0 lists only the live edge. */
  dvrWindowSec: z.number().int().min(0).max(86400).optional(),
  /** Record the original input of each publish session to a file under dataDir/recordings. */
  record: z.boolean().default(false),
  /** Catchup archive retention for this channel, hours; default archive.retentionHours. */
  retentionHours: z.number().min(1).max(24 * 3650).optional(),
  /** ABR ladder of this channel (see transcodeValue); the source is remuxed either way. */
  transcode: transcodeValue.default('passthrough'),
  /** SRT encryption: a publisher over SRT must use this passphrase (10 to 79 characters); none: unencrypted SRT. */
  srtPassphrase: z.string().min(10).max(79).optional(),
  /** Where the channel's stream is pushed on to while it is live (more can be added through the API). */
  restream: z.array(restreamTargetSchema).max(8).default([]),
  /** Thumbnail settings of this channel, over the top-level `thumbnails`. */
  thumbnails: thumbnailsOverride.optional(),
  /** true: a publisher goes live at once; false: preview (plays with a preview token) until started through the API. */
  autoStart: z.boolean().default(true),
  /** `required`: playlists, parts and segments need a signed playback token (?token=…). */
  playbackTokens: z.enum(['none', 'required']).default('none'),
  /** Addresses or CIDR blocks a publisher may connect from; empty: anywhere. */
  ipAllowList: z.array(z.string().min(1).max(64).refine(isIpOrCidr, { message: 'not an IP address or CIDR block' })).max(256).default([]),
  /** Alert rule settings for this channel, over the top-level `alerts` (config channels only). */
  alerts: channelAlertsSchema.optional(),
}).strict();

export const configSchema = z.object({
  rtmp: z.object({
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    port: port.default(1935),
    /** A publisher that sends nothing for this long is disconnected. */
    idleTimeoutSec: z.number().min(1).max(600).default(10),
    maxConnections: z.number().int().min(1).max(100000).default(1000),
  }).strict().default({}),
  /** SRT ingest (MPEG-TS over SRT, caller mode): OBS, vMix, hardware encoders on lossy networks. */
  srt: z.object({
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    /** UDP. */
    port: port.default(8890),
    /** Receiver latency (SRTO_LATENCY): the time lost packets have to be sent again; the larger of this and the caller's wins. */
    latencyMs: z.number().int().min(20).max(8000).default(120),
    maxConnections: z.number().int().min(1).max(10000).default(100),
    /** A publisher that sends nothing for this long is disconnected. */
    idleTimeoutSec: z.number().min(1).max(600).default(10),
  }).strict().default({}),
  /**
   * WHIP (WebRTC) ingest on the API's port: POST /v1/whip/<channel> from a browser (the Go-live
   * page) or a WHIP client such as OBS 30+. Media comes over UDP (ICE) on the ports below.
   */
  whip: z.object({
    enabled: z.boolean().default(true),
    /** Sessions at once (each holds a peer connection and an Opus-to-AAC transcoder). */
    maxSessions: z.number().int().min(1).max(10000).default(50),
    /** A session whose ICE and DTLS do not complete within this, or that sends no media for this long, is ended. */
    connectTimeoutSec: z.number().min(1).max(120).default(10),
    /** UDP ports for ICE, [first, last]; absent: any port the system gives (open them in a firewall when set). */
    udpPortRange: z.tuple([port, port]).refine(([a, b]) => a > 0 && a <= b, { message: 'udpPortRange is [first, last] with 0 < first <= last' }).optional(),
    /** The bandwidth a sender is told it may use (RTCP REMB), b/s: a browser ramps up to this or to its own cap. */
    maxBitrate: z.number().int().min(100_000).max(50_000_000).default(6_000_000),
    /** AAC bit rate of the transcoded Opus audio, bits per second. */
    audioBitrate: z.number().int().min(32_000).max(320_000).default(128_000),
  }).strict().default({}),
  /** RTMP over TLS (RTMPS) for encoders that only speak it; idle timeout and connection cap as rtmp's. */
  rtmps: z.object({
    enabled: z.boolean().default(false),
    host: host.default('0.0.0.0'),
    port: port.default(1936),
    /** PEM files; when both are absent the development certificate under dataDir/tls (as http2's) is used. */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
  }).strict().refine((r) => (r.certFile === undefined) === (r.keyFile === undefined),
    { message: 'give both certFile and keyFile, or neither' }).default({}),
  http: z.object({
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    port: port.default(8080),
    /** 'uws' serves HTTP/1.1 with uWebSockets.js; 'node' with node:http alone. */
    server: z.enum(['uws', 'node']).default('uws'),
  }).strict().default({}),
  http2: z.object({
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    /** TLS (h2, with HTTP/1.1 fallback through ALPN). */
    port: port.default(8443),
    /** Cleartext HTTP/2 (h2c, prior knowledge) for a CDN in front; null disables. */
    cleartextPort: port.nullable().default(8444),
    /** PEM files; when both are absent a self-signed pair is generated under dataDir/tls. */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
  }).strict().refine((h) => (h.certFile === undefined) === (h.keyFile === undefined),
    { message: 'give both certFile and keyFile, or neither' }).default({}),
  /** Base URL printed for players (e.g. behind a proxy); default http://127.0.0.1:<http.port>. */
  publicUrl: z.string().url().optional(),
  dataDir: z.string().min(1).default('./data'),
  latencyModes: z.object({
    normal: modeSettings(6, null, 60),
    low: modeSettings(2, null, 20),
    'ultra-low': modeSettings(2, 0.2, 20),
  }).strict().default({}),
  archive: z.object({
    /** Write every part and segment to dataDir/archive (DVR beyond the live edge, catchup). */
    enabled: z.boolean().default(true),
    retentionHours: z.number().min(1).max(24 * 3650).default(168),
    /** How often archive older than the retention is deleted. */
    sweepIntervalSec: z.number().min(1).max(86400).default(600),
  }).strict().default({}),
  thumbnails: thumbnailsSchema.default({}),
  dvr: z.object({
    /** Default DVR window of live playlists, seconds (needs the archive; RAM holds only the live edge). */
    windowSec: z.number().int().min(0).max(86400).default(7200),
  }).strict().default({}),
  recording: z.object({
    /** A recording file is closed and a new one started after this many minutes. */
    rotateMinutes: z.number().min(1).max(24 * 60).default(60),
  }).strict().default({}),
  storage: z.object({
    /** Archiving and recording pause when free space under dataDir falls below this. */
    minFreeMb: z.number().min(0).max(1024 * 1024).default(512),
    /** They resume once free space is this much above minFreeMb. */
    resumeMarginMb: z.number().min(0).max(1024 * 1024).default(128),
    checkIntervalSec: z.number().min(0.1).max(3600).default(5),
  }).strict().default({}),
  /**
   * An S3-compatible object store holding the archive and the recordings (README: Archive on
   * object storage). Credentials come from the environment (AWS_ACCESS_KEY_ID and
   * AWS_SECRET_ACCESS_KEY, a profile, or an instance role), never from this file.
   */
  objectStore: z.object({
    /** The bucket; unset: the archive and recordings stay on the local disk only. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'objectStore.bucket: an S3 bucket name (3–63 lower-case letters, digits, . and -)').optional(),
    /** An S3-compatible server's URL (MinIO, Ceph RGW, R2…); unset: AWS S3 in `region`. */
    endpoint: z.string().url('objectStore.endpoint: a URL such as http://127.0.0.1:9000').regex(/^https?:\/\//, 'objectStore.endpoint must be http:// or https://').optional(),
    region: z.string().min(1).max(64).default('us-east-1'),
    /** endpoint/bucket/key URLs, which most S3-compatible servers need; default: true with an endpoint, false for AWS. */
    forcePathStyle: z.boolean().optional(),
    /** Every key starts with this (several deployments sharing a bucket). */
    prefix: z.string().regex(/^[A-Za-z0-9._/-]{0,200}$/, 'objectStore.prefix: letters, digits and . _ / -').default(''),
    /** Archive kept on the local disk this long after it is uploaded (the hot edge; then read from the store). */
    localRetentionMinutes: z.number().min(0).max(24 * 60 * 30).default(60),
    /** Channels uploading at once. */
    uploadConcurrency: z.number().int().min(1).max(64).default(4),
    /** RAM for segments and indexes read back from the store (catchup viewers of one range share it), MB. */
    readCacheMb: z.number().min(0).max(64 * 1024).default(64),
  }).strict().default({}),
  transcode: z.object({
    /** libx264 preset of every rung (ultra-low mode adds tune=zerolatency). */
    preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
    /** x264 threads per rung; 0 lets x264 decide (more threads: more parallel, a little less efficient). */
    encoderThreads: z.number().int().min(0).max(16).default(1),
    /** Threads of the one decoder per channel; 0 lets libavcodec decide. */
    decoderThreads: z.number().int().min(0).max(16).default(1),
    /** Named ladders a channel's `transcode` can refer to, besides hd, sd and mobile. */
    ladders: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/), z.array(rungRef).min(1).max(8)).default({}),
  }).strict().default({}),
  /** After the publisher leaves, a reconnect within this time continues the same playlist. */
  reconnectWindowSec: z.number().min(0).max(3600).default(15),
  /** An ended playlist (with ENDLIST) stays available this long, then the channel answers 404. */
  endedRetentionSec: z.number().min(0).max(86400).default(60),
  /**
   * Several origins on one PostgreSQL database (README: Several origins on one PostgreSQL).
   * With `originUrl` set, this origin takes a placement lease for each channel whose publisher
   * it accepts, and a playback request for a channel live on another origin goes there.
   */
  cluster: z.object({
    /** This origin's HTTP URL as the other origins reach it (http://10.0.0.5:8080); unset: no placement. */
    originUrl: z.string().url('cluster.originUrl: an http(s) URL such as http://10.0.0.5:8080').regex(/^https?:\/\//, 'cluster.originUrl must be http:// or https://').optional(),
    /** proxy: fetched from the owning origin and relayed (one hostname, a CDN, in front of all origins); redirect: 302 to it. */
    playback: z.enum(['proxy', 'redirect']).default('proxy'),
    /** A placement lasts this long without a heartbeat (renewed every third of it): how long a dead origin's channels point at it. */
    leaseSec: z.number().min(3, 'cluster.leaseSec must be at least 3').max(120, 'cluster.leaseSec must be at most 120').default(10),
  }).strict().default({}),
  database: z.object({
    /** `sqlite:PATH` (embedded, default `sqlite:<dataDir>/sigma.db`) or `postgres://user:pass@host:port/db`. */
    url: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'database.url: sqlite:PATH or postgres://…').optional(),
  }).strict().default({}),
  api: z.object({
    /** The REST control API (/v1), on its own port. */
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    port: port.default(8081),
    /** A bootstrap admin token (≥ 32 characters; env SIGMA__API__ADMIN_TOKEN). Without it, the first start prints a new one once. */
    adminToken: z.string().min(32, 'api.adminToken must be at least 32 characters').max(256).optional(),
    /** Failed authentications allowed per client address per minute before 429. */
    maxFailedAuthPerMinute: z.number().int().min(1).max(10000).default(20),
  }).strict().default({}),
  /**
   * The server secret: the key of the stream-key and API-token digests and of playback tokens
   * (env SIGMA__SECRET). Default: 32 random bytes kept in dataDir/secret.key (mode 0600), made at first start.
   * Every origin sharing one PostgreSQL database must have the same.
   */
  secret: z.string().min(32, 'secret must be at least 32 characters').max(1024).optional(),
  playback: z.object({
    /** HS256 key of playback tokens, for a back end that signs its own (≥ 32 characters); default: derived from `secret`. */
    tokenSecret: z.string().min(32, 'playback.tokenSecret must be at least 32 characters').max(1024).optional(),
  }).strict().default({}),
  /** How restream targets (channels[].restream and the API) are pushed to. */
  restream: z.object({
    /** Bytes that may wait for a slow target; beyond, frames are dropped to the next keyframe. */
    maxQueueKb: z.number().int().min(64).max(262144).default(4096),
    /** A target that takes no byte for this long is dropped and tried again. */
    stallTimeoutSec: z.number().min(1).max(300).default(10),
    /** TCP, TLS, RTMP handshake, connect and publish must be done within this. */
    connectTimeoutSec: z.number().min(1).max(120).default(10),
  }).strict().default({}),
  webhooks: z.object({
    /** One delivery attempt waits this long for the endpoint's answer. */
    timeoutSec: z.number().min(1).max(120).default(10),
    /** Retries with exponential backoff stop this many hours after the event (≥ 24). */
    retryForHours: z.number().min(24).max(24 * 14).default(25),
    /** Deliveries in flight at once per origin. */
    concurrency: z.number().int().min(1).max(64).default(4),
  }).strict().default({}),
  metrics: z.object({
    /** GET /metrics on the API port (Prometheus text format). */
    enabled: z.boolean().default(true),
    /** When set, /metrics needs `Authorization: Bearer <token>` (env SIGMA__METRICS__TOKEN); default: open, like /healthz. */
    token: z.string().min(16, 'metrics.token must be at least 16 characters').max(256).optional(),
  }).strict().default({}),
  /** Viewer analytics (README: Viewer analytics): sessions, CCU, views, watch time, kept as minute rows in the database. */
  analytics: z.object({
    enabled: z.boolean().default(true),
    /** A session counts as a view once it has this much watch time, seconds. */
    viewAfterSec: z.number().min(0, 'analytics.viewAfterSec must be ≥ 0').max(3600, 'analytics.viewAfterSec must be at most 3600').default(10),
    /** A session ends after this long without a request, per latency mode; absent: 3 × TARGETDURATION, at least 6 s (normal: 30 s). */
    sessionTimeoutSec: z.object({ normal: sessionTimeoutSec, low: sessionTimeoutSec, 'ultra-low': sessionTimeoutSec }).strict().default({}),
    /** Minute rows older than this are deleted. */
    retentionDays: z.number().int('analytics.retentionDays must be a whole number of days').min(1).max(3650).default(90),
    /** Pending minute rows are written this often. */
    flushIntervalSec: z.number().min(1, 'analytics.flushIntervalSec must be at least 1').max(300, 'analytics.flushIntervalSec must be at most 300').default(10),
    /** This origin's id in the minute rows (unique per origin on a shared database); default <hostname>:<http port>. */
    originId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'analytics.originId: 1–128 letters, digits and . _ : -').optional(),
  }).strict().default({}),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .strict().default({}),
  shutdown: z.object({
    /**
     * On SIGTERM /readyz answers 503 at once, and the origin goes on serving this many seconds
     * before it closes, so load balancers polling /readyz take it out of rotation before its
     * listeners go away; 0: close at once.
     */
    drainSec: z.number().min(0).max(300).default(5),
  }).strict().default({}),
  memory: z.object({
    /** How often memory the C allocator holds free goes back to the OS (malloc_trim), seconds; 0: never. */
    trimIntervalSec: z.number().min(0).max(3600).default(30),
  }).strict().default({}),
  /** Alert rules evaluated in the origin (src/ops/alerts/alert-config.ts; README: Alerts). */
  alerts: alertsSchema,
  /**
   * The demo channel (id demo, public key demo-key): true runs it (it must then be the only
   * channel: the origin skips it when API channels exist); false never; 'auto' (what loadConfig
   * sets when no config file is given and `demo` is unset) runs it when no channel exists, in
   * the config or the database: a first `npm start`.
   */
  demo: z.union([z.boolean(), z.literal('auto')]).default(false),
  channels: z.array(channelSchema).default([]),
}).strict().superRefine((c, ctx) => {
  if (c.demo === true && c.channels.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['demo'], message: 'the demo channel runs only alone (its key is public): remove demo or channels' });
  }
  const ids = new Set<string>();
  const keys = new Set<string>();
  c.channels.forEach((ch, i) => {
    const dvrSec = ch.dvrWindowSec ?? c.dvr.windowSec, retentionSec = (ch.retentionHours ?? c.archive.retentionHours) * 3600;
    if (c.archive.enabled && dvrSec > retentionSec) {
      ctx.addIssue({ code: 'custom', path: ['channels', i, 'dvrWindowSec'],
        message: `the DVR window (${dvrSec} s) is longer than the archive retention (${retentionSec} s): the playlist would list deleted segments` });
    }
    try {
      const rungs = resolveLadder(ch.transcode, c.transcode.ladders)?.rungs.map((r) => r.name) ?? [];
      ch.restream.forEach((r, j) => {
        if (r.rendition !== 'source' && !rungs.includes(r.rendition)) {
          ctx.addIssue({ code: 'custom', path: ['channels', i, 'restream', j, 'rendition'],
            message: `"${r.rendition}" is not 'source' nor a rung of the channel's ladder (${rungs.join(', ') || 'none'})` });
        }
      });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['channels', i, 'transcode'], message: (err as Error).message });
    }
    if (ids.has(ch.id)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `duplicate channel id "${ch.id}"` });
    if (keys.has(ch.streamKey)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'streamKey'], message: 'duplicate streamKey' });
    ids.add(ch.id); keys.add(ch.streamKey);
    ch.backupStreamKeys.forEach((k, j) => {
      if (keys.has(k)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'backupStreamKeys', j], message: 'duplicate stream key (each input needs its own)' });
      keys.add(k);
    });
  });
  const ports = [c.rtmp.enabled && c.rtmp.port, c.rtmps.enabled && c.rtmps.port, c.http.enabled && c.http.port, c.api.enabled && c.api.port,
    c.http2.enabled && c.http2.port, c.http2.enabled && c.http2.cleartextPort].filter((p) => typeof p === 'number' && p > 0);
  if (new Set(ports).size !== ports.length) ctx.addIssue({ code: 'custom', path: [], message: `ports must differ: ${ports.join(', ')}` });
});

export type Config = z.infer<typeof configSchema>;
export type ChannelConfig = z.infer<typeof channelSchema>;
export type ThumbnailsConfig = z.infer<typeof thumbnailsSchema>;

/** The channel `--demo` runs, and a first `npm start` (no config file, no channel anywhere). */
export const DEMO_CHANNEL: ChannelConfig = { id: 'demo', streamKey: DEMO_STREAM_KEY, latencyMode: 'ultra-low', record: false, transcode: 'passthrough',
  autoStart: true, playbackTokens: 'none', ipAllowList: [], backupStreamKeys: [], restream: [], failover: { minBitrateKbps: 0, failback: 'auto', failbackAfterSec: 10 } };
