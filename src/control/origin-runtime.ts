import { basename, join } from 'node:path';
import type { ChannelPlacement } from './placement.js';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Channel as ChannelRecord } from '../db/types.js';
import type { ChannelRegistry } from '../media/channel-registry.js';
import { RecordingCatalog, type RecordingInfo } from '../store/recording/recording-catalog.js';
import type { RecordingMirror } from '../store/object/recording-mirror.js';
import { OriginError } from '../errors.js';
import {
  ControlError, type ChannelRuntime, type RemoteRecording, type ChannelStatus, type ChannelUrls, type PublishSession, type RecordingSummary, type StaticChannel,
} from './channel-runtime.js';
import { definitionOf } from './channel-definition.js';
import type { RestreamService } from '../restream/restream-service.js';

/** Signs playback tokens (src/delivery/access/playback-tokens.ts). */
export interface PlaybackTokenSigner {
  sign(channelId: string, opts: { expiresInSec: number; preview?: boolean }): Promise<{ token: string; expiresAt: number }>;
}

/** The running origin as the REST API sees it: the channel registry, the archive and recordings on disk. */
export class OriginRuntime implements ChannelRuntime {
  private readonly catalog: RecordingCatalog;

  constructor(private readonly o: {
    config: Config;
    channels: ChannelRegistry;
    tokens: PlaybackTokenSigner;
    /** Where players and the API's URLs point: config publicUrl or http://127.0.0.1:<port>. */
    publicUrl: () => string;
    /** rtmp://host:port/live as a broadcaster reaches it. */
    publishServer: () => string;
    /** The REST API's base (…/v1), for the WHIP URL. */
    apiBase: () => string;
    /** Which origin each channel is live on (several origins); undefined without cluster.originUrl. */
    placement?: () => Pick<ChannelPlacement, 'placement'> | undefined;
    /** The recordings in the object store (config objectStore.bucket). */
    recordingStore?: RecordingMirror;
    restream?: RestreamService;
    logger: Logger;
  }) {
    this.catalog = new RecordingCatalog(join(o.config.dataDir, 'recordings'));
    this.restream = o.restream;
  }

  readonly restream: RestreamService | undefined;

  async apply(record: ChannelRecord): Promise<void> {
    const outcome = await this.o.channels.define(definitionOf(record));
    this.o.logger.info({ channel: record.id, outcome }, outcome === 'pending'
      ? 'channel updated: pipeline settings apply when its session is over' : `channel ${outcome}`);
  }

  async remove(channelId: string): Promise<void> {
    if (await this.o.channels.remove(channelId)) this.o.logger.info({ channel: channelId }, 'channel deleted');
    this.o.restream?.forget(channelId);
  }

  staticChannels(): StaticChannel[] {
    return this.o.config.channels.map((c) => ({
      id: c.id, latencyMode: c.latencyMode, record: c.record, dvrWindowSec: c.dvrWindowSec ?? null,
      retentionHours: c.retentionHours ?? null, transcode: c.transcode, autoStart: c.autoStart, playbackTokenPolicy: c.playbackTokens,
      ipAllowList: c.ipAllowList, failover: c.failover, srtEncrypted: c.srtPassphrase !== undefined,
    }));
  }

  status(channelId: string): ChannelStatus | undefined {
    const ch = this.o.channels.get(channelId);
    if (!ch) return undefined;
    const s = ch.sessionInfo;
    const publishing = ch.state === 'preview' || ch.state === 'live';
    return {
      state: ch.state, sessionId: s?.id ?? null, since: s?.since ?? null,
      publisher: publishing && s?.remoteAddress ? { remoteAddress: s.remoteAddress } : null,
      renditions: ch.renditions().map((r) => r.name),
      ingest: ch.ingest(),
      inputs: ch.inputs.status(),
      liveOn: this.liveOn(channelId),
    };
  }

  private liveOn(channelId: string): ChannelStatus['liveOn'] {
    const p = this.o.placement?.()?.placement(channelId);
    return p ? { originId: p.originId, originUrl: p.originUrl } : null;
  }

  private served(channelId: string) {
    const ch = this.o.channels.get(channelId);
    if (!ch) throw new ControlError(404, 'CHANNEL_NOT_FOUND', `no channel ${channelId} on this origin`);
    return ch;
  }

  async start(channelId: string): Promise<ChannelStatus> {
    const ch = this.served(channelId);
    if (ch.state === 'live') return this.status(channelId)!;
    if (!ch.start('api')) {
      throw new ControlError(409, 'NOT_PUBLISHING', `channel ${channelId} is ${ch.state}: start needs a publisher in preview`);
    }
    return this.status(channelId)!;
  }

  async stop(channelId: string): Promise<ChannelStatus> {
    const ch = this.served(channelId);
    if (!(await ch.stop())) throw new ControlError(409, 'NOT_PUBLISHING', `channel ${channelId} is ${ch.state}: there is no session to stop`);
    return this.status(channelId)!;
  }

  async activateInput(channelId: string, input: string): Promise<ChannelStatus> {
    const outcome = this.served(channelId).inputs.activate(input);
    if (!outcome.ok) throw new ControlError(409, 'INPUT_NOT_READY', `channel ${channelId}: ${outcome.reason}`);
    return this.status(channelId)!;
  }

  async sessions(channelId: string): Promise<PublishSession[]> {
    const archive = this.served(channelId).archive;
    if (!archive) return [];
    return (await archive.sessions.list()).map((s) => ({ startedAt: s.startMs, endedAt: s.endMs ?? null, slates: s.slates }));
  }

  /** This disk's recordings and (with an object store) every origin's, each once. */
  private async allRecordings(channelId: string): Promise<(RecordingInfo & { local: boolean })[]> {
    const local = (await this.catalog.list(channelId)).map((r) => ({ ...r, local: true }));
    if (!this.o.recordingStore) return local;
    const names = new Set(local.map((r) => basename(r.file)));
    const remote = (await this.o.recordingStore.list(channelId)).filter((r) => !names.has(basename(r.file))).map((r) => ({ ...r, local: false }));
    return [...local, ...remote].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async recordings(channelId: string): Promise<RecordingSummary[]> {
    return (await this.allRecordings(channelId)).map((r) => ({
      name: basename(r.file), bytes: r.bytes, durationMs: r.durationMs,
      startedAt: Date.parse(r.startedAt), endedAt: r.endedAt === null ? Date.now() : Date.parse(r.endedAt), complete: r.complete,
    }));
  }

  private async findRecording(channelId: string, name: string) {
    return (await this.allRecordings(channelId)).find((r) => basename(r.file) === name);
  }

  async recordingPath(channelId: string, name: string): Promise<string | undefined> {
    const r = await this.findRecording(channelId, name);
    return r?.local ? r.file : undefined;
  }

  async remoteRecording(channelId: string, name: string): Promise<RemoteRecording | undefined> {
    const store = this.o.recordingStore;
    const r = store && await this.findRecording(channelId, name);
    if (!store || !r || r.local) return undefined;
    return { size: r.bytes, open: (range) => store.open(channelId, name, range) };
  }

  async deleteRecording(channelId: string, name: string): Promise<boolean> {
    const r = await this.findRecording(channelId, name);
    if (!r) return false;
    if (!r.local) {
      await this.o.recordingStore!.remove(channelId, name);
      return true;
    }
    try {
      await this.catalog.remove(r.file);
      await this.o.recordingStore?.remove(channelId, name);
    } catch (err) {
      if (err instanceof OriginError && err.code === 'RECORDING_IN_PROGRESS') {
        throw new ControlError(409, 'RECORDING_IN_PROGRESS', `recording ${name} is still being written`);
      }
      if (err instanceof OriginError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
    return true;
  }

  catchupUrl(channelId: string, fromMs: number, toMs: number): string {
    return `${this.o.publicUrl()}/live/${channelId}/archive/${Math.floor(fromMs / 1000)}-${Math.ceil(toMs / 1000)}/index.m3u8`;
  }

  urls(channelId: string): ChannelUrls {
    const base = this.o.publicUrl();
    return { publishServer: this.o.publishServer(), playback: `${base}/live/${channelId}/index.m3u8`, player: `${base}/player/${channelId}`,
      whip: `${this.o.apiBase()}/whip/${channelId}` };
  }

  playbackToken(channelId: string, opts: { expiresInSec: number; preview?: boolean }): Promise<{ token: string; expiresAt: number }> {
    this.served(channelId);
    return this.o.tokens.sign(channelId, opts);
  }
}

