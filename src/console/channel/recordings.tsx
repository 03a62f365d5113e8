import { api, download, enc, get } from '../api.js';
import { useSession } from '../session.js';
import type { Recording } from '../types.js';
import { bytes, duration, time } from '../ui/format.js';
import { act, ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';

/** The channel's source recordings: download (with the API token, so through the page) and delete. */
export function Recordings({ channelId }: { channelId: string }) {
  const session = useSession();
  const base = `/v1/channels/${enc(channelId)}/recordings`;
  const list = usePoll(() => get<{ items: Recording[] }>(base), 15_000, channelId);
  const items = list.data?.items ?? [];
  const remove = (r: Recording) => act(`${r.name} deleted`, () => api('DELETE', `${base}/${enc(r.name)}`), `Delete the recording ${r.name}?`).then(list.reload);
  return (
    <section aria-labelledby="rec-h">
      <h2 id="rec-h">Recordings</h2>
      {list.error && <ErrorLine error={list.error} />}
      {list.data && items.length === 0 && <p class="placeholder">None (recording is a channel setting).</p>}
      {items.length > 0 && (
        <div class="table-wrap"><table data-testid="recordings">
          <thead><tr><th scope="col">File</th><th scope="col">Started</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>{items.map((r) => (
            <tr key={r.name}>
              <td>{r.name}{!r.complete && ' (recording)'}</td><td>{time(r.startedAt)}</td><td>{duration(r.durationMs / 1000)}</td><td>{bytes(r.bytes)}</td>
              <td><div class="row-actions">
                <button type="button" class="secondary" onClick={() => act(`${r.name} downloaded`, () => download(`${base}/${enc(r.name)}`, r.name))}>Download</button>
                {session.can('write') && r.complete && <button type="button" class="danger" onClick={() => remove(r)}>Delete</button>}
              </div></td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </section>
  );
}
