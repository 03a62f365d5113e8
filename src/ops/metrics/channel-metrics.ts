import type { Registry } from 'prom-client';
import type { Channel, ChannelState } from '../../media/channel.js';
import type { LiveWindow } from '../../store/live-window.js';
import { oncePerScrape, PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge } from './scrape-time.js';

/** What the channel metrics read of a channel. */
export type MeteredChannel = Pick<Channel, 'id' | 'state' | 'renditions' | 'archive'>;

const STATES: readonly ChannelState[] = ['idle', 'preview', 'live', 'reconnecting', 'ended'];

/**
 * Parts and segments produced per rendition, as counters that only grow. A window counts what
 * was added to it, but a channel gets a new window when a session starts after the last one
 * ended; the totals here carry the old window's count over. A window is replaced only after it
 * has stood ended for endedRetentionSec (many scrapes), so its final count has been seen.
 */
class ProducedTotals {
  private readonly byRendition = new Map<string, { window: LiveWindow; base: { parts: number; segments: number }; last: { parts: number; segments: number } }>();

  /** The totals of every rendition of `channels` now; renditions of channels gone are forgotten. */
  read(channels: readonly MeteredChannel[]): { channel: string; rendition: string; parts: number; segments: number }[] {
    const out = [];
    const seen = new Set<string>();
    for (const ch of channels) {
      for (const r of ch.renditions()) {
        const key = `${ch.id}\0${r.name}`;
        seen.add(key);
        let t = this.byRendition.get(key);
        if (!t) this.byRendition.set(key, (t = { window: r.window, base: { parts: 0, segments: 0 }, last: { parts: 0, segments: 0 } }));
        if (t.window !== r.window) {
          t.base = { parts: t.base.parts + t.last.parts, segments: t.base.segments + t.last.segments };
          t.window = r.window;
        }
        t.last = { ...r.window.produced };
      }
    }
    for (const [key, t] of this.byRendition) {
      const [channel, rendition] = key.split('\0');
      if (!seen.has(key) && !channels.some((c) => c.id === channel)) { this.byRendition.delete(key); continue; }
      out.push({ channel, rendition, parts: t.base.parts + t.last.parts, segments: t.base.segments + t.last.segments });
    }
    return out;
  }
}

/**
 * Per channel: its state, the blocking requests it holds, what it produced, what its archive
 * wrote. Read from the channels at scrape time.
 */
export function registerChannelMetrics(registry: Registry, channels: () => readonly MeteredChannel[]): void {
  scrapeTimeGauge({
    registry, name: `${PREFIX}channel_state`, labelNames: ['channel', 'state'],
    help: 'The channel\'s state: 1 for the state it is in, 0 for the others (idle, preview, live, reconnecting, ended)',
    sample: (emit) => {
      for (const ch of channels()) for (const state of STATES) emit({ channel: ch.id, state }, ch.state === state ? 1 : 0);
    },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}channel_held_requests`, labelNames: ['channel'],
    help: 'Blocking playlist and preload-hint requests held now, waiting for a part (about one per viewer of an LL-HLS channel)',
    sample: (emit) => {
      for (const ch of channels()) emit({ channel: ch.id }, ch.renditions().reduce((n, r) => n + r.window.waiting, 0));
    },
  });
  const produced = new ProducedTotals();
  const totals = oncePerScrape(() => produced.read(channels()));
  scrapeTimeCounter({
    registry, name: `${PREFIX}channel_parts_total`, labelNames: ['channel', 'rendition'],
    help: 'CMAF parts produced into the live playlist, per rendition (source or ladder rung)',
    sample: (emit) => { for (const t of totals()) emit({ channel: t.channel, rendition: t.rendition }, t.parts); },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}channel_segments_total`, labelNames: ['channel', 'rendition'],
    help: 'Segments completed in the live playlist, per rendition',
    sample: (emit) => { for (const t of totals()) emit({ channel: t.channel, rendition: t.rendition }, t.segments); },
  });
  const archived = () => channels().filter((c) => c.archive !== undefined);
  scrapeTimeCounter({
    registry, name: `${PREFIX}archive_written_bytes_total`, labelNames: ['channel'],
    help: 'Bytes of segments and init segments the channel\'s archive wrote to disk, all renditions',
    sample: (emit) => { for (const ch of archived()) emit({ channel: ch.id }, ch.archive!.tally.bytesWritten); },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}archive_queue_bytes`, labelNames: ['channel'],
    help: 'Bytes waiting in the channel\'s archive write queues (it drops segments past 64 MiB per rendition)',
    sample: (emit) => { for (const ch of archived()) emit({ channel: ch.id }, ch.archive!.tally.queuedBytes); },
  });
  scrapeTimeCounter({
    registry, name: `${PREFIX}archive_dropped_segments_total`, labelNames: ['channel'],
    help: 'Segments left out of the archive because its write queue was full (disk slower than the stream)',
    sample: (emit) => { for (const ch of archived()) emit({ channel: ch.id }, ch.archive!.tally.droppedSegments); },
  });
}
