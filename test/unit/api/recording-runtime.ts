import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ControlError, type ChannelRuntime, type ChannelStatus, type ChannelUrls, type PublishSession, type RecordingSummary, type StaticChannel,
} from '../../../src/control/channel-runtime.js';
import type { Channel } from '../../../src/db/types.js';
import { IngestMeter } from '../../../src/ingest/ingest-meter.js';
import type { InputsStatus } from '../../../src/media/inputs/input-switch.js';

/** A fake channel's inputs: none connected. */
const NO_INPUTS: InputsStatus = { active: null, inputs: [], failovers: 0, slateMs: 0 };

/**
 * A ChannelRuntime for the API tests: no origin, state in memory, every call recorded. Tests
 * drive it (a publisher "connects" with publish()) and check what the API asked of it. The
 * real origin behind this interface is covered by the lead's end-to-end test.
 */
export class RecordingRuntime implements ChannelRuntime {
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** What apply() was given, by channel id; remove() deletes. */
  readonly applied = new Map<string, Channel>();
  readonly configChannels: StaticChannel[] = [];
  private readonly states = new Map<string, ChannelStatus>();
  readonly sessionLog = new Map<string, PublishSession[]>();
  /** Recording files by channel: name → summary; the files themselves live in `dir`. */
  private readonly files = new Map<string, Map<string, RecordingSummary>>();
  /** Set to make the next apply() fail (the origin refusing a channel). */
  failNextApply: Error | null = null;

  constructor(private readonly dir: string, private readonly now: () => number = Date.now) {}

  /** A config-file channel, as the origin would report it. */
  addConfigChannel(id: string, extra: Partial<StaticChannel> = {}): void {
    this.configChannels.push({
      id, latencyMode: 'ultra-low', record: false, dvrWindowSec: null, retentionHours: null, transcode: 'passthrough',
      autoStart: true, playbackTokenPolicy: 'none', ipAllowList: [], failover: { minBitrateKbps: 0, failback: 'auto', failbackAfterSec: 10 }, srtEncrypted: false, ...extra,
    });
  }

  /** A publisher connects: preview (or live with autoStart). */
  publish(channelId: string, remoteAddress = '192.0.2.10'): void {
    const autoStart = this.applied.get(channelId)?.autoStart ?? this.configChannels.find((c) => c.id === channelId)?.autoStart ?? false;
    const sessionId = `s${this.calls.length}`;
    const meter = new IngestMeter(this.now);
    meter.startSession(remoteAddress, false);
    this.states.set(channelId, { state: autoStart ? 'live' : 'preview', sessionId, since: this.now(), publisher: { remoteAddress }, renditions: ['source'],
      ingest: meter.snapshot(), inputs: NO_INPUTS, liveOn: null });
    this.sessionLog.set(channelId, [...(this.sessionLog.get(channelId) ?? []), { startedAt: this.now(), endedAt: null, slates: [] }]);
  }

  /** A finished recording of `bytes` bytes, written to disk. */
  addRecording(channelId: string, name: string, bytes: number, complete = true): string {
    const dir = join(this.dir, channelId);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, Buffer.alloc(bytes, 7));
    const at = this.now();
    const byName = this.files.get(channelId) ?? new Map<string, RecordingSummary>();
    byName.set(name, { name, bytes, durationMs: 60_000, startedAt: at - 60_000, endedAt: at, complete });
    this.files.set(channelId, byName);
    return path;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private known(channelId: string): void {
    if (!this.applied.has(channelId) && !this.configChannels.some((c) => c.id === channelId)) {
      throw new Error(`RecordingRuntime: the API asked about channel "${channelId}", which it never applied`);
    }
  }

  async apply(channel: Channel): Promise<void> {
    this.record('apply', channel);
    if (this.failNextApply) {
      const err = this.failNextApply;
      this.failNextApply = null;
      throw err;
    }
    this.applied.set(channel.id, channel);
  }

  async remove(channelId: string): Promise<void> {
    this.record('remove', channelId);
    this.applied.delete(channelId);
    this.states.delete(channelId);
  }

  staticChannels(): StaticChannel[] {
    return this.configChannels;
  }

  status(channelId: string): ChannelStatus | undefined {
    if (!this.applied.has(channelId) && !this.configChannels.some((c) => c.id === channelId)) return undefined;
    return this.states.get(channelId) ?? { state: 'idle', sessionId: null, since: null, publisher: null, renditions: [], ingest: new IngestMeter(this.now).snapshot(), inputs: NO_INPUTS, liveOn: null };
  }

  async start(channelId: string): Promise<ChannelStatus> {
    this.record('start', channelId);
    this.known(channelId);
    const s = this.states.get(channelId);
    if (!s || s.state === 'idle' || s.state === 'ended') throw new ControlError(409, 'NOT_PUBLISHING', 'nobody publishes on this channel');
    const live = { ...s, state: 'live' as const, since: this.now() };
    this.states.set(channelId, live);
    return live;
  }

  async activateInput(channelId: string, input: string): Promise<ChannelStatus> {
    this.record('activateInput', channelId);
    this.known(channelId);
    throw new ControlError(409, 'INPUT_NOT_READY', `channel ${channelId}: input ${input} is not connected`);
  }

  async stop(channelId: string): Promise<ChannelStatus> {
    this.record('stop', channelId);
    this.known(channelId);
    const s = this.states.get(channelId);
    if (!s || s.state === 'idle') throw new ControlError(409, 'NOT_PUBLISHING', 'the channel is idle');
    const ended = { ...s, state: 'ended' as const, since: this.now(), publisher: null };
    this.states.set(channelId, ended);
    const sessions = this.sessionLog.get(channelId) ?? [];
    const last = sessions[sessions.length - 1];
    if (last && last.endedAt === null) last.endedAt = this.now();
    return ended;
  }

  async sessions(channelId: string): Promise<PublishSession[]> {
    this.known(channelId);
    return this.sessionLog.get(channelId) ?? [];
  }

  async recordings(channelId: string): Promise<RecordingSummary[]> {
    this.known(channelId);
    return [...(this.files.get(channelId)?.values() ?? [])];
  }

  async recordingPath(channelId: string, name: string): Promise<string | undefined> {
    this.record('recordingPath', channelId, name);
    return this.files.get(channelId)?.has(name) ? join(this.dir, channelId, name) : undefined;
  }

  async deleteRecording(channelId: string, name: string): Promise<boolean> {
    this.record('deleteRecording', channelId, name);
    const byName = this.files.get(channelId);
    if (byName?.get(name)?.complete === false) throw new ControlError(409, 'RECORDING_IN_PROGRESS', `recording ${name} is still being written`);
    if (!byName?.delete(name)) return false;
    rmSync(join(this.dir, channelId, name), { force: true });
    return true;
  }

  catchupUrl(channelId: string, fromMs: number, toMs: number): string {
    this.record('catchupUrl', channelId, fromMs, toMs);
    return `http://origin.test:8080/live/${channelId}/archive.m3u8?from=${fromMs}&to=${toMs}`;
  }

  urls(channelId: string): ChannelUrls {
    return {
      publishServer: 'rtmp://origin.test:1935/live',
      playback: `http://origin.test:8080/live/${channelId}/index.m3u8`,
      player: `http://origin.test:8080/live/${channelId}/player`,
      whip: `http://origin.test:8081/v1/whip/${channelId}`,
    };
  }

  async playbackToken(channelId: string, opts: { expiresInSec: number; preview?: boolean }): Promise<{ token: string; expiresAt: number }> {
    this.record('playbackToken', channelId, opts);
    this.known(channelId);
    const expiresAt = this.now() + opts.expiresInSec * 1000;
    return { token: `pt.${channelId}.${expiresAt}.${opts.preview ? 'preview' : 'live'}`, expiresAt };
  }
}
