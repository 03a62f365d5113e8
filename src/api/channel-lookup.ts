import { z } from 'zod';
import type { ChannelStatus, StaticChannel } from '../control/channel-runtime.js';
import { transcodeFromStored } from '../control/channel-definition.js';
import { channelSchema, failoverSchema, transcodeValue } from '../config/schema.js';
import type { Channel } from '../db/types.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { iso, isoOrNull, isoTime } from './schemas.js';
import { ingestView, ingestViewOf } from './ingest-view.js';
import { inputsView, inputsViewOf } from './inputs-view.js';

/**
 * A channel as the API sees it: a database channel (source "api", changeable) or a config-file
 * channel (source "config", read-only), with its live status and URLs from the runtime.
 */
export type FoundChannel = { source: 'api'; record: Channel } | { source: 'config'; config: StaticChannel };

const settingsOf = channelSchema.shape;

export const channelStatusView = z.object({
  state: z.enum(['idle', 'preview', 'live', 'reconnecting', 'ended']),
  sessionId: z.string().nullable(),
  since: isoTime.nullable(),
  publisher: z.object({ remoteAddress: z.string() }).nullable(),
  renditions: z.array(z.string()),
  ingest: ingestView,
  inputs: inputsView,
  liveOn: z.object({ originId: z.string(), originUrl: z.string() }).nullable()
    .describe('The origin the channel\'s publish session is on (this one or another sharing the database; cluster.originUrl set), null when none'),
}).describe('The live state of a channel (state, publisher, ingest and inputs: as this origin sees them)');

export const channelView = z.object({
  id: z.string(),
  name: z.string(),
  source: z.enum(['api', 'config']).describe('"config": defined in the config file, read-only through the API'),
  latencyMode: settingsOf.latencyMode.removeDefault(),
  transcode: transcodeValue,
  dvrWindowSec: z.number().int().nullable().describe('null: the server\'s dvr.windowSec'),
  record: z.boolean(),
  retentionHours: z.number().nullable().describe('null: the server\'s archive.retentionHours'),
  autoStart: z.boolean(),
  ipAllowList: z.array(z.string()),
  playbackTokenPolicy: z.enum(['none', 'required']),
  failover: failoverSchema.nullable().describe('The failover settings as set; null: the defaults'),
  srtEncrypted: z.boolean().describe('SRT publishers must use the channel\'s passphrase (srtPassphrase, never shown)'),
  createdAt: isoTime.nullable().describe('null for config channels'),
  updatedAt: isoTime.nullable(),
  status: channelStatusView.nullable().describe('null when the origin does not serve the channel (yet)'),
  urls: z.object({
    publishServer: z.string().describe('RTMP server URL (OBS "Server"); the stream key goes after it'),
    playback: z.string().describe('The multivariant HLS playlist'),
    player: z.string().describe('The origin\'s player page'),
    whip: z.string().describe('WHIP endpoint (OBS 30+ "WHIP", a browser): bearer = the stream key or a publish token'),
  }),
});

export type ChannelView = z.input<typeof channelView>;

type StatusView = z.input<typeof channelStatusView>;
export function statusView(s: ChannelStatus): StatusView;
export function statusView(s: ChannelStatus | undefined): StatusView | null;
export function statusView(s: ChannelStatus | undefined): StatusView | null {
  if (!s) return null;
  return { state: s.state, sessionId: s.sessionId, since: isoOrNull(s.since), publisher: s.publisher, renditions: s.renditions,
    ingest: ingestViewOf(s.ingest), inputs: inputsViewOf(s.inputs), liveOn: s.liveOn };
}

/** The channel with this id, from the config or the database; 404 when neither has it. */
export async function findChannel(ctx: ApiContext, id: string): Promise<FoundChannel> {
  const config = ctx.runtime.staticChannels().find((c) => c.id === id);
  if (config) return { source: 'config', config };
  const record = await ctx.db.channels.get(id);
  if (record) return { source: 'api', record };
  throw new ApiError('CHANNEL_NOT_FOUND', `no channel "${id}"`);
}

/** A channel the API may change: 409 for a config channel, 404 for none. */
export async function apiChannel(ctx: ApiContext, id: string): Promise<Channel> {
  const found = await findChannel(ctx, id);
  if (found.source === 'config') throw new ApiError('CONFIG_CHANNEL_READ_ONLY', `channel "${id}" is defined in the config file: change it there`);
  return found.record;
}

export function viewOf(ctx: ApiContext, found: FoundChannel): ChannelView {
  const id = found.source === 'api' ? found.record.id : found.config.id;
  const live = { status: statusView(ctx.runtime.status(id)), urls: ctx.runtime.urls(id) };
  if (found.source === 'config') {
    const c = found.config;
    return {
      id, name: id, source: 'config', latencyMode: c.latencyMode, transcode: (c.transcode ?? 'passthrough') as ChannelView['transcode'],
      dvrWindowSec: c.dvrWindowSec, record: c.record, retentionHours: c.retentionHours, autoStart: c.autoStart,
      ipAllowList: c.ipAllowList, playbackTokenPolicy: c.playbackTokenPolicy, failover: c.failover, srtEncrypted: c.srtEncrypted,
      createdAt: null, updatedAt: null, ...live,
    };
  }
  const r = found.record;
  return {
    id, name: r.name, source: 'api', latencyMode: r.latencyMode, transcode: transcodeFromStored(r.transcodeProfile),
    dvrWindowSec: r.dvrWindowSec, record: r.record, retentionHours: r.retentionHours, autoStart: r.autoStart,
    ipAllowList: r.ipAllowList, playbackTokenPolicy: r.playbackTokenPolicy, failover: r.failover as ChannelView['failover'],
    srtEncrypted: r.srtPassphrase !== null, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), ...live,
  };
}
