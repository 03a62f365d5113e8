import type { Registry } from 'prom-client';
import type { RestreamTargetStatus } from '../../restream/restream-target.js';
import { PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge } from './scrape-time.js';

/** What the restream metrics read: each channel's targets (src/restream). */
export type RestreamTargets = () => readonly { channelId: string; targets: readonly RestreamTargetStatus[] }[];

/** Per target (channel, target id, name; never its URL): connected or not, bytes, retries, frames dropped. */
export function registerRestreamMetrics(registry: Registry, all: RestreamTargets): void {
  const each = (emit: (labels: Record<string, string>, v: number) => void, value: (t: RestreamTargetStatus) => number) => {
    for (const { channelId, targets } of all()) for (const t of targets) emit({ channel: channelId, target: t.id, name: t.name }, value(t));
  };
  const labelNames = ['channel', 'target', 'name'];
  scrapeTimeGauge({
    registry, name: `${PREFIX}restream_connected`, labelNames,
    help: 'Whether the restream target is connected and being pushed to (1) or not (0: idle, connecting, retrying, stopped)',
    sample: (emit) => each(emit, (t) => (t.state === 'connected' ? 1 : 0)),
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}restream_sent_bytes_total`, labelNames,
    help: 'Bytes pushed to the restream target (RTMP messages, chunk headers included)',
    sample: (emit) => each(emit, (t) => t.bytesSent),
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}restream_retries_total`, labelNames,
    help: 'Failed connection attempts and dropped connections of the restream target since its channel\'s stream started',
    sample: (emit) => each(emit, (t) => t.retries),
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}restream_dropped_frames_total`, labelNames,
    help: 'Frames not sent to the restream target because it fell behind (dropped to the next keyframe)',
    sample: (emit) => each(emit, (t) => t.framesDropped),
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}restream_queued_bytes`, labelNames,
    help: 'Bytes written for the restream target and not yet taken by the network',
    sample: (emit) => each(emit, (t) => t.queuedBytes),
  });
}
