import { useState } from 'preact/hooks';
import { allPages, api, enc, get } from '../api.js';
import { IssuedKeyBox } from '../channel/issued-key.js';
import { settingsFromForm, SettingsFields } from '../channel/settings-form.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import type { Channel, IssuedKey, Realtime } from '../types.js';
import { bitrate } from '../ui/format.js';
import { act, ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';
import { StateBadge } from '../ui/state-badge.js';

/** Every second: a publisher going live shows within that, without a reload. */
const POLL_MS = 1000;

interface Row { channel: Channel; viewers: number }

async function loadRows(): Promise<Row[]> {
  const [channels, realtime] = await Promise.all([allPages<Channel>('/v1/channels'), get<Realtime>('/v1/analytics/realtime')]);
  const ccu = new Map(realtime.channels.map((c) => [c.channelId, c.ccu]));
  return channels.map((channel) => ({ channel, viewers: ccu.get(channel.id) ?? 0 }));
}

function ingestBitrate(c: Channel): number | null {
  const i = c.status?.ingest;
  if (!i?.publishing) return null;
  return (i.video?.bitrate1s ?? 0) + (i.audio?.bitrate1s ?? 0);
}

/** Channels: state, input, viewers and ingest at a glance; create, start, stop, delete. */
export function ChannelsPage() {
  const session = useSession();
  const rows = usePoll(loadRows, POLL_MS);
  const [filter, setFilter] = useState('');
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<{ key: IssuedKey; server: string; channel: string } | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const id = String(new FormData(form).get('id') ?? '').trim();
    const created = await act('Channel created', () => api<Channel & { streamKey: IssuedKey }>('POST', '/v1/channels',
      { ...(id ? { id } : {}), ...settingsFromForm(form) }));
    if (created) {
      setIssued({ key: created.streamKey, server: created.urls.publishServer, channel: created.id });
      setCreating(false);
      rows.reload();
    }
  };

  const control = (c: Channel, what: 'start' | 'stop') => act(what === 'start' ? `${c.id} is live` : `${c.id} stopped`,
    () => api('POST', `/v1/channels/${enc(c.id)}/${what}`), what === 'stop' ? `Stop ${c.id}? Its publisher is disconnected.` : undefined)
    .then(rows.reload);
  const remove = (c: Channel) => act(`${c.id} deleted`, () => api('DELETE', `/v1/channels/${enc(c.id)}`),
    `Delete channel ${c.id} and its stream keys? Its archive stays until retention.`).then(rows.reload);

  const shown = (rows.data ?? []).filter((r) => filter === '' || `${r.channel.id} ${r.channel.name}`.toLowerCase().includes(filter.toLowerCase()));
  const live = (rows.data ?? []).filter((r) => r.channel.status?.state === 'live').length;

  return (
    <>
      <div class="page-head">
        <h1>Channels</h1>
        <p class="summary">{rows.data ? `${rows.data.length} channels, ${live} live` : ''}</p>
        {session.can('write') && <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>New channel</button>}
      </div>
      {creating && (
        <form class="card" onSubmit={create} aria-label="New channel">
          <h2>New channel</h2>
          <SettingsFields idField />
          <div class="actions"><button type="submit">Create</button><button type="button" class="secondary" onClick={() => setCreating(false)}>Cancel</button></div>
        </form>
      )}
      {issued && (
        <div class="card">
          <p>Channel <a href={href.channel(issued.channel)}>{issued.channel}</a> is ready for a publisher.</p>
          <IssuedKeyBox issued={issued.key} server={issued.server} onClose={() => setIssued(null)} />
        </div>
      )}
      <label class="filter"><span>Filter</span><input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="id or name" /></label>
      {rows.error && <ErrorLine error={rows.error} />}
      <div class="table-wrap">
        <table class="channels" data-testid="channels">
          <thead><tr><th scope="col">Channel</th><th scope="col">State</th><th scope="col">Input</th><th scope="col">Viewers</th>
            <th scope="col">Ingest</th><th scope="col">Latency mode</th>{session.can('write') && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {shown.map(({ channel: c, viewers }) => (
              <tr key={c.id} data-channel={c.id}>
                <th scope="row"><a href={href.channel(c.id)}>{c.name}</a>{c.name !== c.id && <small> {c.id}</small>}</th>
                <td><StateBadge state={c.status?.state} /></td>
                <td>{c.status?.inputs.active ?? '–'}</td>
                <td data-testid="viewers">{viewers}</td>
                <td>{bitrate(ingestBitrate(c))}{c.status?.ingest.video ? ` · ${c.status.ingest.video.height}p` : ''}</td>
                <td>{c.latencyMode}</td>
                {session.can('write') && (
                  <td><div class="row-actions">
                    {c.status?.state === 'preview' && <button type="button" onClick={() => control(c, 'start')}>Start</button>}
                    {(c.status?.state === 'live' || c.status?.state === 'preview' || c.status?.state === 'reconnecting') &&
                      <button type="button" class="secondary" onClick={() => control(c, 'stop')}>Stop</button>}
                    {c.source === 'api' && <button type="button" class="danger" aria-label={`Delete ${c.id}`} onClick={() => remove(c)}>Delete</button>}
                  </div></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.data && shown.length === 0 && <p>No channel{filter ? ' matches' : ' yet'}.</p>}
    </>
  );
}
