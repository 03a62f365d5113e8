import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';
import type { Config } from '../../config/schema.js';
import { localFiles } from '../archive/archive-files.js';
import { HOUR_MS } from '../archive/archive-layout.js';
import { ArchiveSweeper } from '../archive/archive-sweeper.js';
import { ChannelArchive } from '../archive/channel-archive.js';
import type { MeteredObjectStore } from '../../ops/metrics/object-store-metrics.js';
import { ALWAYS_WRITABLE } from '../disk/storage-gate.js';
import { Bucket } from './bucket.js';
import { RecordingMirror } from './recording-mirror.js';
import { TieredFiles } from './tiered-files.js';
import { UploadLanes } from './upload-lanes.js';

/** How long a clean stop waits for the uploads still queued. */
const STOP_FLUSH_MS = 10_000;

/**
 * The object store as the origin uses it (config objectStore): the bucket, the upload lanes,
 * the archive's two-tier files, and the sweep that deletes local copies once they are old
 * enough and safely uploaded. Absent (undefined from fromConfig) without objectStore.bucket.
 */
export class ObjectStorage {
  readonly bucket: Bucket;
  readonly lanes: UploadLanes;
  readonly files: TieredFiles;
  private localSweeper: ArchiveSweeper | undefined;

  readonly recordings: RecordingMirror;

  static fromConfig(config: Config, events: EventBus, logger: Logger): ObjectStorage | undefined {
    return config.objectStore.bucket ? new ObjectStorage(config, events, logger) : undefined;
  }

  private constructor(private readonly config: Config, events: EventBus, private readonly logger: Logger) {
    const s = config.objectStore;
    this.bucket = new Bucket({ bucket: s.bucket!, endpoint: s.endpoint, region: s.region,
      forcePathStyle: s.forcePathStyle ?? s.endpoint !== undefined, prefix: s.prefix });
    const log = logger.child({ component: 'object-store' });
    this.lanes = new UploadLanes({ concurrency: s.uploadConcurrency, logger: log });
    this.files = new TieredFiles({ dataDir: config.dataDir, bucket: this.bucket, lanes: this.lanes, logger, cacheBytes: s.readCacheMb * 1024 * 1024 });
    this.recordings = new RecordingMirror({ root: join(config.dataDir, 'recordings'), bucket: this.bucket, lanes: this.lanes, events, logger: log });
  }

  /** Uploads begin, this origin's copies of the logs named after originId. */
  start(originId: string): void {
    this.files.start(originId);
  }

  /**
   * Deletes local archive copies older than objectStore.localRetentionMinutes (whole hours, as
   * the archive sweeper does), never one whose upload may still be waiting: while the store is
   * away, the local disk keeps everything since the oldest waiting upload.
   */
  startLocalSweep(archives: () => { dir: string; channelId: string }[]): void {
    const localMs = this.config.objectStore.localRetentionMinutes * 60_000;
    this.localSweeper = new ArchiveSweeper({
      archives: () => {
        const oldest = this.lanes.oldestPendingAt();
        const retentionMs = oldest === undefined ? localMs : Math.max(localMs, Date.now() - oldest + HOUR_MS);
        return archives().map(({ dir, channelId }) => ({
          archive: new ChannelArchive(dir, channelId, ALWAYS_WRITABLE, this.logger, localFiles), retentionMs, sessions: false,
        }));
      },
      intervalMs: Math.min(this.config.archive.sweepIntervalSec, 600) * 1000,
      logger: this.logger.child({ tier: 'local' }),
      message: 'local archive copies older than objectStore.localRetentionMinutes deleted (they stay in the object store)',
    });
    this.localSweeper.start();
  }

  /** What /metrics shows of the store. */
  metered(): MeteredObjectStore {
    const oldest = this.lanes.oldestPendingAt();
    const cache = this.files.readCache;
    return {
      tally: this.bucket.tally, uploadsWaiting: this.lanes.depth,
      oldestWaitingSec: oldest === undefined ? 0 : (Date.now() - oldest) / 1000,
      cache: { hits: cache.hits, misses: cache.misses, bytes: cache.size },
    };
  }

  /** Waits (a bounded time) for the uploads still queued, then stops. */
  async close(): Promise<void> {
    this.localSweeper?.stop();
    this.recordings.stop();
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.lanes.idle().then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), STOP_FLUSH_MS); }),
    ]);
    clearTimeout(timer);
    if (!flushed) this.logger.warn({ component: 'object-store', waiting: this.lanes.depth }, 'object store: uploads still waiting at stop; the local copies keep them');
    this.lanes.stop();
    this.bucket.destroy();
  }
}
