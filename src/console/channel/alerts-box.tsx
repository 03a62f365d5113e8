import { enc, get } from '../api.js';
import type { Alert, Page } from '../types.js';
import { ago, time } from '../ui/format.js';
import { ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';

/** Active alerts, of one channel or of the whole origin (channelId undefined). */
export function ActiveAlerts({ channelId }: { channelId?: string }) {
  const q = channelId === undefined ? '' : `&channelId=${enc(channelId)}`;
  const alerts = usePoll(() => get<Page<Alert>>(`/v1/alerts?state=active&limit=100${q}`), 2000, q);
  const items = alerts.data?.items ?? [];
  return (
    <section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Active alerts {items.length > 0 && <span class="badge alert">{items.length}</span>}</h2>
      {alerts.error && <ErrorLine error={alerts.error} />}
      {alerts.data && items.length === 0 && <p class="placeholder" data-testid="no-alerts">None.</p>}
      <ul class="alerts" data-testid="alerts">
        {items.map((a) => (
          <li key={a.id} data-rule={a.rule} role="alert">
            <b>{a.rule}</b>{a.channelId && channelId === undefined ? <> on <a href={`#/channels/${enc(a.channelId)}`}>{a.channelId}</a></> : null}
            {' '}<span>{a.message}</span> <time dateTime={a.raisedAt} title={time(a.raisedAt)}>raised {ago(a.raisedAt)}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}
