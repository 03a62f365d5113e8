import { useState } from 'preact/hooks';
import { allPages, enc, get } from '../api.js';
import type { AnalyticsFigures, AnalyticsReport, Channel, Realtime } from '../types.js';
import { Chart } from '../ui/chart.js';
import { duration } from '../ui/format.js';
import { ErrorLine } from '../ui/notice.js';
import { usePoll } from '../ui/poll.js';

/** The ranges offered, with the point width that keeps a range under the API's 1500 points. */
const RANGES = [
  { id: '1h', label: 'Last hour', ms: 3600_000, interval: '1m' },
  { id: '6h', label: 'Last 6 hours', ms: 6 * 3600_000, interval: '1m' },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, interval: '1h' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, interval: '1h' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, interval: '1d' },
] as const;

type RangeId = (typeof RANGES)[number]['id'];

const NO_VIEWERS: AnalyticsFigures = { ccuMax: 0, ccuAvg: 0, sessions: 0, views: 0, newUniqueViewers: 0, watchTimeSec: { total: 0, live: 0, dvr: 0, catchup: 0 }, rebufferRatio: null };

const span = (range: (typeof RANGES)[number]) => {
  const to = Math.floor(Date.now() / 1000);
  return `from=${to - range.ms / 1000}&to=${to}`;
};
const reportPath = (channel: string, range: (typeof RANGES)[number]) => `/v1/channels/${enc(channel)}/analytics?${span(range)}&interval=${range.interval}`;

/** Viewer analytics: concurrent viewers now, then per channel over a range: CCU, views, unique viewers, watch time. */
export function AnalyticsPage() {
  const [rangeId, setRangeId] = useState<RangeId>('1h');
  const range = RANGES.find((r) => r.id === rangeId)!;
  const channels = usePoll(() => allPages<Channel>('/v1/channels'), 0);
  const realtime = usePoll(() => get<Realtime>('/v1/analytics/realtime'), 5000);
  const ids = (channels.data ?? []).map((c) => c.id);
  const [selected, setSelected] = useState<string | null>(null);
  const chosen = selected ?? [...(realtime.data?.channels ?? [])].sort((a, b) => b.ccu - a.ccu)[0]?.channelId ?? ids[0] ?? null;
  const report = usePoll(() => (chosen === null ? Promise.resolve(null) : get<AnalyticsReport>(reportPath(chosen, range))), 30_000, `${chosen}|${rangeId}`);
  // Every channel's totals in one request (a channel without viewers in the range is not in it: zeros).
  const totals = usePoll(async () => new Map((await get<{ channels: { channelId: string; totals: AnalyticsFigures }[] }>(`/v1/analytics/channels?${span(range)}`))
    .channels.map((c) => [c.channelId, c.totals])), 60_000, rangeId);

  const points = report.data?.points ?? [];
  const x = points.map((p) => Date.parse(p.start) / 1000);
  const ccuNow = new Map((realtime.data?.channels ?? []).map((c) => [c.channelId, c.ccu]));
  const totalNow = [...ccuNow.values()].reduce((a, b) => a + b, 0);

  return (
    <>
      <div class="page-head">
        <h1>Analytics</h1>
        <p class="summary" data-testid="ccu-now">{realtime.data ? `${totalNow} watching now` : ''}</p>
        <label class="inline-label"><span>Range</span>
          <select value={rangeId} onChange={(e) => setRangeId((e.target as HTMLSelectElement).value as RangeId)}>
            {RANGES.map((r) => <option value={r.id}>{r.label}</option>)}
          </select></label>
        <label class="inline-label"><span>Channel</span>
          <select value={chosen ?? ''} onChange={(e) => setSelected((e.target as HTMLSelectElement).value)}>
            {ids.map((id) => <option value={id}>{id}</option>)}
          </select></label>
      </div>
      {(channels.error || report.error || realtime.error) && <ErrorLine error={channels.error ?? report.error ?? realtime.error} />}
      {report.data && (
        <section aria-labelledby="report-h">
          <h2 id="report-h">{report.data.channelId}: {range.label.toLowerCase()}</h2>
          <dl class="facts big" data-testid="totals">
            <div><dt>Peak viewers</dt><dd>{report.data.totals.ccuMax}</dd></div>
            <div><dt>Views</dt><dd>{report.data.totals.views}</dd></div>
            <div><dt>Sessions</dt><dd>{report.data.totals.sessions}</dd></div>
            <div><dt>Unique viewers</dt><dd>{report.data.totals.newUniqueViewers}</dd></div>
            <div><dt>Watch time</dt><dd>{duration(report.data.totals.watchTimeSec.total)}</dd></div>
            <div><dt>Rebuffering</dt><dd>{report.data.totals.rebufferRatio === null ? '–' : `${(report.data.totals.rebufferRatio * 100).toFixed(2)} %`}</dd></div>
          </dl>
          <div class="charts">
            <Chart title="Concurrent viewers" x={x} series={[{ label: 'peak', values: points.map((p) => p.ccuMax), color: '#4fc3f7' },
              { label: 'average', values: points.map((p) => p.ccuAvg), color: '#81c784' }]} />
            <Chart title="Views and sessions" x={x} series={[{ label: 'views', values: points.map((p) => p.views), color: '#ffb74d' },
              { label: 'sessions', values: points.map((p) => p.sessions), color: '#ba68c8' }]} />
            <Chart title="Watch time" unit=" min" x={x} series={[{ label: 'live', values: points.map((p) => p.watchTimeSec.live / 60), color: '#4fc3f7' },
              { label: 'DVR', values: points.map((p) => p.watchTimeSec.dvr / 60), color: '#e57373' },
              { label: 'catchup', values: points.map((p) => p.watchTimeSec.catchup / 60), color: '#81c784' }]} />
          </div>
        </section>
      )}
      <section aria-labelledby="per-channel-h">
        <h2 id="per-channel-h">Per channel, {range.label.toLowerCase()}</h2>
        {totals.error && <ErrorLine error={totals.error} />}
        <div class="table-wrap"><table data-testid="per-channel">
          <thead><tr><th scope="col">Channel</th><th scope="col">Now</th><th scope="col">Peak</th><th scope="col">Views</th><th scope="col">Unique</th><th scope="col">Watch time</th></tr></thead>
          <tbody>{ids.map((id) => {
            const t = totals.data === undefined ? undefined : totals.data.get(id) ?? NO_VIEWERS;
            return (
              <tr key={id}>
                <th scope="row"><button type="button" class="link" onClick={() => setSelected(id)}>{id}</button></th>
                <td>{ccuNow.get(id) ?? 0}</td><td>{t?.ccuMax ?? '…'}</td><td>{t?.views ?? '…'}</td><td>{t?.newUniqueViewers ?? '…'}</td>
                <td>{t ? duration(t.watchTimeSec.total) : '…'}</td>
              </tr>
            );
          })}</tbody>
        </table></div>
      </section>
    </>
  );
}
