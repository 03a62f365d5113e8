import { useRef } from 'preact/hooks';
import type { Channel } from '../types.js';
import { Chart } from '../ui/chart.js';
import { bitrate } from '../ui/format.js';

/** Five minutes of one-second samples: the charts cost the same however long the page stays open. */
const KEEP = 300;

interface Samples { t: number[]; video: (number | null)[]; audio: (number | null)[]; fps: (number | null)[]; keyframe: (number | null)[]; drift: (number | null)[] }

const empty = (): Samples => ({ t: [], video: [], audio: [], fps: [], keyframe: [], drift: [] });

/**
 * The publisher's stream as the origin measures it (the channel's status.ingest), sampled at
 * each poll of the channel page and drawn as live charts.
 */
export function IngestHealth({ channel, sampledAt }: { channel: Channel; sampledAt: number }) {
  const samples = useRef<{ channel: string; last: number; s: Samples }>({ channel: channel.id, last: 0, s: empty() });
  if (samples.current.channel !== channel.id) samples.current = { channel: channel.id, last: 0, s: empty() };
  const ingest = channel.status?.ingest;
  const s = samples.current.s;
  if (ingest && sampledAt !== samples.current.last) {
    samples.current.last = sampledAt;
    const on = ingest.publishing;
    s.t.push(sampledAt / 1000);
    s.video.push(on && ingest.video ? ingest.video.bitrate1s / 1e6 : null);
    s.audio.push(on && ingest.audio ? ingest.audio.bitrate1s / 1e6 : null);
    s.fps.push(on && ingest.video ? ingest.video.frameRate : null);
    s.keyframe.push(on && ingest.video?.keyframeInterval ? ingest.video.keyframeInterval.lastMs / 1000 : null);
    s.drift.push(on ? ingest.avDriftMs : null);
    if (s.t.length > KEEP) for (const k of Object.keys(s) as (keyof Samples)[]) s[k].shift();
  }
  const v = ingest?.video, a = ingest?.audio;
  return (
    <section aria-labelledby="ingest-h">
      <h2 id="ingest-h">Ingest health</h2>
      <dl class="facts" data-testid="ingest-facts">
        <div><dt>Publisher</dt><dd>{ingest?.publisher ? `${ingest.publisher.address}${ingest.publisher.software ? ` (${ingest.publisher.software})` : ''}` : 'none'}</dd></div>
        <div><dt>Video</dt><dd>{v ? `${v.codec} ${v.width}×${v.height} · ${bitrate(v.bitrate10s)} · ${v.frameRate.toFixed(1)} fps` : '–'}</dd></div>
        <div><dt>Audio</dt><dd>{a ? `${a.codec} ${a.sampleRate / 1000} kHz ×${a.channels} · ${bitrate(a.bitrate10s)}` : '–'}</dd></div>
        <div><dt>Keyframes</dt><dd>{v?.keyframeInterval ? `every ${(v.keyframeInterval.lastMs / 1000).toFixed(2)} s (${(v.keyframeInterval.minMs / 1000).toFixed(2)}–${(v.keyframeInterval.maxMs / 1000).toFixed(2)})` : '–'}</dd></div>
        <div><dt>A/V drift</dt><dd>{ingest?.avDriftMs == null ? '–' : `${Math.round(ingest.avDriftMs)} ms`}</dd></div>
        {ingest?.transport && <div><dt>SRT</dt><dd>RTT {ingest.transport.rttMs.toFixed(0)} ms · lost {ingest.transport.packetsLost} · latency {ingest.transport.latencyMs} ms</dd></div>}
      </dl>
      <div class="charts" data-testid="ingest-charts">
        <Chart title="Bitrate" unit=" Mb/s" x={s.t} series={[{ label: 'video', values: s.video, color: '#4fc3f7' }, { label: 'audio', values: s.audio, color: '#ffb74d' }]} />
        <Chart title="Frame rate" unit=" fps" x={s.t} series={[{ label: 'fps', values: s.fps, color: '#81c784' }]} />
        <Chart title="Keyframe interval" unit=" s" x={s.t} series={[{ label: 'interval', values: s.keyframe, color: '#ba68c8' }]} />
        <Chart title="A/V drift" unit=" ms" x={s.t} series={[{ label: 'drift', values: s.drift, color: '#e57373' }]} />
      </div>
    </section>
  );
}
