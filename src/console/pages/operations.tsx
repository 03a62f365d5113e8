import { useState } from 'preact/hooks';
import { allPages, api, enc, get } from '../api.js';
import { ActiveAlerts } from '../channel/alerts-box.js';
import { useSession } from '../session.js';
import type { Alert, Delivery, Page, Readiness, TokenInfo, Webhook } from '../types.js';
import { CopyField } from '../ui/copy.js';
import { ago, time } from '../ui/format.js';
import { act, ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';

/** Readiness checks of this origin (/readyz answers 503 with the same body when a check fails). */
function ReadinessChecks() {
  const ready = usePoll(async () => {
    const r = await fetch('/readyz');
    return await r.json() as Readiness;
  }, 5000);
  const checks = Object.entries(ready.data?.checks ?? {});
  return (
    <section aria-labelledby="ready-h">
      <h2 id="ready-h">Readiness {ready.data && <span class={`badge ${ready.data.status === 'ready' ? 'state-live' : 'alert'}`} data-testid="readiness">{ready.data.status}</span>}</h2>
      {ready.error && <ErrorLine error={ready.error} />}
      <ul class="checks">
        {checks.map(([name, c]) => <li key={name} class={c.ok ? 'ok' : 'failing'}><b>{c.ok ? '✓' : '✗'} {name}</b>{c.error && <> · {c.error}</>}</li>)}
      </ul>
    </section>
  );
}

function AlertHistory() {
  const alerts = usePoll(() => get<Page<Alert>>('/v1/alerts?state=cleared&limit=20'), 10_000);
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">Cleared alerts</h2>
      {alerts.error && <ErrorLine error={alerts.error} />}
      <ul class="alerts">
        {(alerts.data?.items ?? []).map((a) => (
          <li key={a.id}><b>{a.rule}</b>{a.channelId && <> on {a.channelId}</>} · {a.message} · {time(a.raisedAt)} → {time(a.clearedAt)}</li>
        ))}
      </ul>
      {alerts.data?.items.length === 0 && <p class="placeholder">None.</p>}
    </section>
  );
}

function Deliveries({ webhook }: { webhook: Webhook }) {
  const base = `/v1/webhooks/${enc(webhook.id)}`;
  const list = usePoll(() => get<Page<Delivery>>(`${base}/deliveries?limit=20`), 5000, webhook.id);
  const redeliver = (d: Delivery) => act(`Event ${d.eventId} queued again`, () => api('POST', `${base}/deliveries/${enc(d.eventId)}/redeliver`)).then(list.reload);
  return (
    <div class="table-wrap"><table data-testid="deliveries">
      <thead><tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">When</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>{(list.data?.items ?? []).map((d) => (
        <tr key={d.id}>
          <td><code>{d.eventId}</code></td><td>{d.state}</td><td>{d.attempts}</td><td>{d.lastStatus ?? d.lastError ?? '–'}</td><td>{ago(d.deliveredAt ?? d.createdAt)}</td>
          <td><button type="button" class="secondary" onClick={() => redeliver(d)}>Redeliver</button></td>
        </tr>
      ))}</tbody>
    </table></div>
  );
}

function Webhooks() {
  const hooks = usePoll(() => allPages<Webhook>('/v1/webhooks'), 0);
  const [open, setOpen] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const types = String(f.get('types')).split(',').map((t) => t.trim()).filter((t) => t !== '');
    const made = await act('Webhook added', () => api<Webhook & { secret: string }>('POST', '/v1/webhooks', { url: String(f.get('url')).trim(), eventTypes: types }));
    if (made) { setSecret(made.secret); hooks.reload(); (e.target as HTMLFormElement).reset(); }
  };
  const toggle = (w: Webhook) => act(w.enabled ? 'Webhook paused' : 'Webhook enabled', () => api('PATCH', `/v1/webhooks/${enc(w.id)}`, { enabled: !w.enabled })).then(hooks.reload);
  const remove = (w: Webhook) => act('Webhook deleted', () => api('DELETE', `/v1/webhooks/${enc(w.id)}`), `Delete the webhook to ${w.url}?`).then(hooks.reload);
  return (
    <section aria-labelledby="hooks-h">
      <h2 id="hooks-h">Webhooks</h2>
      {hooks.error && <ErrorLine error={hooks.error} />}
      {secret && <div class="issued"><p class="warn">The signing secret, shown once:</p><CopyField label="Signing secret" value={secret} />
        <button type="button" onClick={() => setSecret(null)}>I have copied it</button></div>}
      <ul class="hooks" data-testid="webhooks">
        {(hooks.data ?? []).map((w) => (
          <li key={w.id}>
            <div class="row">
              <span><b>{w.url}</b> · {w.eventTypes.join(', ')} · {w.enabled ? 'enabled' : 'paused'}</span>
              <span class="row-actions">
                <button type="button" class="secondary" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>Deliveries</button>
                <button type="button" class="secondary" onClick={() => toggle(w)}>{w.enabled ? 'Pause' : 'Enable'}</button>
                <button type="button" class="danger" onClick={() => remove(w)}>Delete</button>
              </span>
            </div>
            {open === w.id && <Deliveries webhook={w} />}
          </li>
        ))}
      </ul>
      <form class="inline" onSubmit={create} aria-label="New webhook">
        <label><span>URL</span><input name="url" type="url" required placeholder="https://example.com/hooks/sigma" /></label>
        <label><span>Event types (comma-separated; * for all)</span><input name="types" required defaultValue="*" /></label>
        <button type="submit">Add webhook</button>
      </form>
    </section>
  );
}

function ApiTokens() {
  const tokens = usePoll(() => allPages<TokenInfo>('/v1/api-tokens'), 0);
  const [secret, setSecret] = useState<string | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const made = await act('API token created', () => api<TokenInfo & { secret: string }>('POST', '/v1/api-tokens', { name: String(f.get('name')).trim(), scopes: [f.get('scope')] }));
    if (made) { setSecret(made.secret); tokens.reload(); (e.target as HTMLFormElement).reset(); }
  };
  const revoke = (t: TokenInfo) => act('API token revoked', () => api('DELETE', `/v1/api-tokens/${enc(t.id)}`), `Revoke the API token “${t.name}”?`).then(tokens.reload);
  return (
    <section aria-labelledby="tokens-h">
      <h2 id="tokens-h">API tokens</h2>
      {tokens.error && <ErrorLine error={tokens.error} />}
      {secret && <div class="issued" data-testid="issued-token"><p class="warn">The token, shown once:</p><CopyField label="API token" value={secret} testid="api-token-secret" />
        <button type="button" onClick={() => setSecret(null)}>I have copied it</button></div>}
      <div class="table-wrap"><table data-testid="api-tokens">
        <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>{(tokens.data ?? []).map((t) => (
          <tr key={t.id}>
            <td>{t.name}</td><td>{t.scopes.join(', ')}</td><td>{time(t.createdAt)}</td><td>{ago(t.lastUsedAt)}</td>
            <td>{t.revokedAt ? `revoked ${ago(t.revokedAt)}` : 'active'}</td>
            <td>{t.revokedAt === null && t.source === 'api' && <button type="button" class="danger" onClick={() => revoke(t)}>Revoke</button>}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <form class="inline" onSubmit={create} aria-label="New API token">
        <label><span>Name</span><input name="name" required maxLength={100} placeholder="dashboard" /></label>
        <label><span>Scope</span><select name="scope"><option value="read">read</option><option value="write">write</option><option value="admin">admin</option></select></label>
        <button type="submit">Create token</button>
      </form>
    </section>
  );
}

/** Operations: readiness, alerts, and for admin tokens the webhooks (with deliveries) and API tokens. */
export function OperationsPage() {
  const session = useSession();
  return (
    <>
      <div class="page-head"><h1>Operations</h1></div>
      <div class="grid two">
        <ReadinessChecks />
        <ActiveAlerts />
      </div>
      <AlertHistory />
      {session.can('admin') ? <><Webhooks /><ApiTokens /></>
        : <p class="placeholder">Webhooks and API tokens need an admin token.</p>}
    </>
  );
}
