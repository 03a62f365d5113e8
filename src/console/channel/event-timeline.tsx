import { enc, get } from '../api.js';
import type { OriginEvent, Page } from '../types.js';
import { time } from '../ui/format.js';
import { ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';

/** What an event's payload adds, in a few words. */
function detail(e: OriginEvent): string {
  const p = e.payload;
  const parts: string[] = [];
  for (const k of ['startedBy', 'remoteAddress', 'reason', 'input', 'from', 'to', 'name', 'message', 'error', 'file', 'code']) {
    if (typeof p[k] === 'string' || typeof p[k] === 'number') parts.push(`${k}: ${p[k]}`);
  }
  if (typeof p.gapMs === 'number') parts.push(`after ${(p.gapMs / 1000).toFixed(1)} s`);
  return parts.join(' · ');
}

/** The channel's lifecycle, newest first: preview, live, reconnected, failover, ended, alerts, restream, recordings. */
export function EventTimeline({ channelId }: { channelId: string }) {
  const events = usePoll(() => get<Page<OriginEvent>>(`/v1/channels/${enc(channelId)}/events?limit=30`), 2000, channelId);
  return (
    <section aria-labelledby="events-h">
      <h2 id="events-h">Events</h2>
      {events.error && <ErrorLine error={events.error} />}
      <ol class="timeline" data-testid="events">
        {(events.data?.items ?? []).map((e) => (
          <li key={e.id} data-type={e.type} class={`ev ev-${e.type.replace('.', '-')}`}>
            <time dateTime={e.occurredAt}>{time(e.occurredAt)}</time> <b>{e.type}</b> <span>{detail(e)}</span>
          </li>
        ))}
      </ol>
      {events.data?.items.length === 0 && <p class="placeholder">No events yet.</p>}
    </section>
  );
}
