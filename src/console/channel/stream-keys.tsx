import { useState } from 'preact/hooks';
import { allPages, api, enc } from '../api.js';
import { useSession } from '../session.js';
import type { Channel, IssuedKey, StreamKey } from '../types.js';
import { ago, time } from '../ui/format.js';
import { act, ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';
import { IssuedKeyBox } from './issued-key.js';

/** A channel's stream keys: create (primary or backup input), rotate, revoke; a secret is shown once. */
export function StreamKeys({ channel }: { channel: Channel }) {
  const session = useSession();
  const base = `/v1/channels/${enc(channel.id)}/stream-keys`;
  const keys = usePoll(() => allPages<StreamKey>(base), 0, channel.id);
  const [issued, setIssued] = useState<IssuedKey | null>(null);

  if (channel.source === 'config') {
    return (
      <section aria-labelledby="keys-h"><h2 id="keys-h">Stream keys</h2>
        <p class="placeholder">This channel is defined in the config file: its key is set there.</p></section>
    );
  }

  const create = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const name = String(f.get('name')).trim();
    const key = await act('Stream key created', () => api<IssuedKey>('POST', base, { name: name === '' ? null : name, input: f.get('input') }));
    if (key) { setIssued(key); keys.reload(); (e.target as HTMLFormElement).reset(); }
  };
  const rotate = async (k: StreamKey) => {
    const key = await act('Stream key rotated: the old one no longer publishes', () => api<IssuedKey>('POST', `${base}/${enc(k.id)}/rotate`),
      `Rotate the key …${k.hint}? Publishers using it must switch to the new one.`);
    if (key) { setIssued(key); keys.reload(); }
  };
  const revoke = (k: StreamKey) => act('Stream key revoked', () => api('DELETE', `${base}/${enc(k.id)}`),
    `Revoke the key …${k.hint}? Publishing with it is refused from now on.`).then(keys.reload);

  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">Stream keys</h2>
      {issued && <IssuedKeyBox issued={issued} server={channel.urls.publishServer} onClose={() => setIssued(null)} />}
      {keys.error && <ErrorLine error={keys.error} />}
      <div class="table-wrap"><table data-testid="stream-keys">
        <thead><tr><th scope="col">Key</th><th scope="col">Input</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th>
          {session.can('write') && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {(keys.data ?? []).map((k) => (
            <tr key={k.id}>
              <td>{k.name ?? 'unnamed'} <code>…{k.hint}</code></td>
              <td>{k.input}</td>
              <td>{time(k.createdAt)}</td>
              <td>{ago(k.lastUsedAt)}</td>
              <td>{k.revokedAt ? `revoked ${ago(k.revokedAt)}` : 'active'}</td>
              {session.can('write') && (
                <td><div class="row-actions">{k.revokedAt === null && <>
                  <button type="button" class="secondary" onClick={() => rotate(k)}>Rotate</button>
                  <button type="button" class="danger" onClick={() => revoke(k)}>Revoke</button>
                </>}</div></td>
              )}
            </tr>
          ))}
        </tbody>
      </table></div>
      {session.can('write') && (
        <form class="inline" onSubmit={create} aria-label="New stream key">
          <label><span>Name</span><input name="name" maxLength={100} placeholder="studio OBS" /></label>
          <label><span>Input</span><select name="input">
            <option value="primary">primary</option>
            {[1, 2, 3, 4].map((n) => <option value={`backup${n}`}>backup{n} (hot standby)</option>)}
          </select></label>
          <button type="submit">New key</button>
        </form>
      )}
    </section>
  );
}
