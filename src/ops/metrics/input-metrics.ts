import type { Registry } from 'prom-client';
import type { Channel } from '../../media/channel.js';
import { oncePerScrape, PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge } from './scrape-time.js';

/** What the input metrics read of a channel. */
export type InputMeteredChannel = Pick<Channel, 'id' | 'inputs'>;

/**
 * Per channel: which input is on air (primary, a backup, the slate), each connected input's
 * health, and the failovers and slate time so far (issue 18's backup inputs).
 */
export function registerInputMetrics(registry: Registry, channels: () => readonly InputMeteredChannel[]): void {
  const statuses = oncePerScrape(() => channels().map((ch) => ({ channel: ch.id, status: ch.inputs.status() })));
  scrapeTimeGauge({
    registry, name: `${PREFIX}channel_input_active`, labelNames: ['channel', 'input'],
    help: 'The input on air: 1 for it (primary, backup1…, or slate), 0 for the other connected inputs',
    sample: (emit) => {
      for (const { channel, status } of statuses()) {
        for (const i of status.inputs) emit({ channel, input: i.name }, i.active ? 1 : 0);
        if (status.active === 'slate' || status.active === 'gap') emit({ channel, input: status.active }, 1);
      }
    },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}channel_input_healthy`, labelNames: ['channel', 'input'],
    help: 'A connected input is fit to be on air (sending, a keyframe seen, above the bitrate floor): 1, else 0',
    sample: (emit) => { for (const { channel, status } of statuses()) for (const i of status.inputs) emit({ channel, input: i.name }, i.healthy ? 1 : 0); },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}channel_failovers_total`, labelNames: ['channel'],
    help: 'Switches away from an input to a backup or the slate (not counting returns to the primary)',
    sample: (emit) => { for (const { channel, status } of statuses()) emit({ channel }, status.failovers); },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}channel_slate_seconds_total`, labelNames: ['channel'],
    help: 'Time the slate has been on air because no input was fit',
    sample: (emit) => { for (const { channel, status } of statuses()) emit({ channel }, status.slateMs / 1000); },
  });
}
