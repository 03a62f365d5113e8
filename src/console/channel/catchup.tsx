import { useState } from 'preact/hooks';
import { enc, get } from '../api.js';
import type { Session } from '../types.js';
import { localInput, time } from '../ui/format.js';
import { describeError, ErrorLine } from '../ui/notice.js';
import { HlsPlayer } from '../ui/player.js';
import { usePoll } from '../ui/poll.js';

/**
 * Catchup: the publish sessions kept in the archive on a timeline; pick one (or type a range)
 * and play it from the archive (GET /v1/channels/<id>/catchup gives the playlist).
 */
export function Catchup({ channelId }: { channelId: string }) {
  const sessions = usePoll(() => get<{ items: Session[] }>(`/v1/channels/${enc(channelId)}/sessions`), 10_000, channelId);
  const now = Date.now();
  const [range, setRange] = useState<{ from: number; to: number }>({ from: now - 600_000, to: now });
  const [playing, setPlaying] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const items = sessions.data?.items ?? [];
  const start = items.length > 0 ? Date.parse(items[0].startedAt) : now - 3600_000;
  const span = Math.max(1, now - start);
  const pick = (s: Session) => setRange({ from: Date.parse(s.startedAt), to: s.endedAt ? Date.parse(s.endedAt) : Date.now() });

  const play = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await get<{ url: string }>(`/v1/channels/${enc(channelId)}/catchup?from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`);
      setPlaying(r.url);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section aria-labelledby="catchup-h">
      <h2 id="catchup-h">Catchup</h2>
      {sessions.error && <ErrorLine error={sessions.error} />}
      <div class="session-bar" aria-label="Sessions in the archive" role="group" data-testid="sessions">
        {items.map((s) => {
          const from = Date.parse(s.startedAt), to = s.endedAt ? Date.parse(s.endedAt) : now;
          return (
            <button type="button" key={s.startedAt} class={s.endedAt ? 'session' : 'session on'}
              style={{ left: `${((from - start) / span) * 100}%`, width: `max(6px, ${((to - from) / span) * 100}%)` }}
              title={`${time(s.startedAt)} – ${s.endedAt ? time(s.endedAt) : 'now'}`}
              aria-label={`Session from ${time(s.startedAt)} to ${s.endedAt ? time(s.endedAt) : 'now'}`} onClick={() => pick(s)} />
          );
        })}
      </div>
      {sessions.data && items.length === 0 && <p class="placeholder">Nothing archived yet.</p>}
      <form class="inline" onSubmit={play} aria-label="Catchup range">
        <label><span>From</span><input type="datetime-local" step={1} value={localInput(range.from)} required
          onChange={(e) => setRange({ ...range, from: new Date((e.target as HTMLInputElement).value).getTime() })} /></label>
        <label><span>To</span><input type="datetime-local" step={1} value={localInput(range.to)} required
          onChange={(e) => setRange({ ...range, to: new Date((e.target as HTMLInputElement).value).getTime() })} /></label>
        <button type="submit">Play range</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {playing && <div class="catchup-player"><HlsPlayer src={playing} live={false} label="Catchup" testid="catchup" /></div>}
    </section>
  );
}
