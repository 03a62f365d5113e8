import { useState } from 'preact/hooks';
import { api, enc, get } from '../api.js';
import { ActiveAlerts } from '../channel/alerts-box.js';
import { Catchup } from '../channel/catchup.js';
import { EventTimeline } from '../channel/event-timeline.js';
import { IngestHealth } from '../channel/ingest-health.js';
import { LivePreview } from '../channel/preview.js';
import { Recordings } from '../channel/recordings.js';
import { RenditionsAndInputs } from '../channel/renditions.js';
import { settingsFromForm, SettingsFields } from '../channel/settings-form.js';
import { StreamKeys } from '../channel/stream-keys.js';
import { ThumbnailsStrip } from '../channel/thumbnails-strip.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import type { Channel } from '../types.js';
import { CopyField } from '../ui/copy.js';
import { time } from '../ui/format.js';
import { act, ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';
import { StateBadge } from '../ui/state-badge.js';

/** One channel: preview, ingest health, renditions, alerts, events, DVR pictures, catchup, recordings, keys, settings. */
export function ChannelPage({ id }: { id: string }) {
  const session = useSession();
  const path = `/v1/channels/${enc(id)}`;
  const polled = usePoll(async () => ({ channel: await get<Channel>(path), at: Date.now() }), 1000, id);
  const [editing, setEditing] = useState(false);
  const c = polled.data?.channel;

  if (polled.error && !c) return <><h1>Channel {id}</h1><ErrorLine error={polled.error} /><a href={href.channels}>All channels</a></>;
  if (!c) return <p class="loading">Loading {id}…</p>;

  const state = c.status?.state;
  const control = (what: 'start' | 'stop') => act(what === 'start' ? 'The channel is live' : 'The channel stopped',
    () => api('POST', `${path}/${what}`), what === 'stop' ? 'Stop the channel? Its publisher is disconnected.' : undefined).then(polled.reload);
  const save = async (e: Event) => {
    e.preventDefault();
    if (await act('Settings saved (media settings apply from the next session)', () => api('PATCH', path, settingsFromForm(e.target as HTMLFormElement)))) {
      setEditing(false);
      polled.reload();
    }
  };
  const remove = async () => {
    if (await act(`${c.id} deleted`, () => api('DELETE', path), `Delete channel ${c.id} and its stream keys?`) !== undefined) location.hash = href.channels;
  };

  return (
    <>
      <div class="page-head">
        <h1>{c.name} <small>{c.id}</small></h1>
        <StateBadge state={state} />
        <span class="summary">{c.latencyMode}{c.status?.since ? ` · since ${time(c.status.since)}` : ''}{c.source === 'config' ? ' · config file' : ''}</span>
        {session.can('write') && (
          <div class="actions">
            {state === 'preview' && <button type="button" onClick={() => control('start')}>Start</button>}
            {(state === 'live' || state === 'preview' || state === 'reconnecting') && <button type="button" class="secondary" onClick={() => control('stop')}>Stop</button>}
            {c.source === 'api' && <button type="button" class="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>Edit</button>}
            {c.source === 'api' && <button type="button" class="danger" onClick={remove}>Delete</button>}
          </div>
        )}
      </div>
      {editing && (
        <form class="card" onSubmit={save} aria-label="Channel settings">
          <SettingsFields channel={c} />
          <div class="actions"><button type="submit">Save</button><button type="button" class="secondary" onClick={() => setEditing(false)}>Cancel</button></div>
        </form>
      )}
      <div class="grid two">
        <section aria-label="Preview">
          <LivePreview channel={c} />
          <div class="urls">
            <CopyField label="Playback URL" value={c.urls.playback} />
            <CopyField label="OBS Server (RTMP)" value={c.urls.publishServer} />
            <CopyField label="WHIP URL" value={c.urls.whip} />
          </div>
        </section>
        <div>
          <ActiveAlerts channelId={c.id} />
          <RenditionsAndInputs channel={c} />
          <EventTimeline channelId={c.id} />
        </div>
      </div>
      <IngestHealth channel={c} sampledAt={polled.data!.at} />
      <ThumbnailsStrip playbackUrl={c.urls.playback} />
      <Catchup channelId={c.id} />
      <div class="grid two">
        <Recordings channelId={c.id} />
        <StreamKeys channel={c} />
      </div>
    </>
  );
}
