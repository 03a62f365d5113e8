import type { Channel } from '../types.js';

/** The renditions the channel serves (the ABR rungs, or the source) and whether each keeps up with real time, and its inputs. */
export function RenditionsAndInputs({ channel }: { channel: Channel }) {
  const status = channel.status;
  const rungs = status?.ingest.pipeline?.rungs ?? [];
  const byName = new Map(rungs.map((r) => [r.name, r]));
  return (
    <section aria-labelledby="rungs-h">
      <h2 id="rungs-h">Renditions and inputs</h2>
      <ul class="rungs" data-testid="renditions">
        {(status?.renditions ?? []).map((name) => {
          const r = byName.get(name);
          return (
            <li key={name}><b>{name}</b>{r && <> · {r.framesEncoded} frames{r.framesDropped > 0 ? `, ${r.framesDropped} dropped` : ''}
              {r.realTimeFactor !== null && <> · ×{r.realTimeFactor.toFixed(2)} real time{r.realTimeFactor < 0.98 && <span class="error"> (behind)</span>}</>}</>}</li>
          );
        })}
        {(status?.renditions.length ?? 0) === 0 && <li class="placeholder">None until a publisher connects.</li>}
      </ul>
      <ul class="inputs" data-testid="inputs">
        {(status?.inputs.inputs ?? []).map((i) => (
          <li key={i.name}><b>{i.name}</b>{i.active ? ' (on air)' : ''} · {i.healthy ? 'healthy' : i.problem ?? 'unhealthy'} · {i.bitrateKbps} kb/s · {i.remoteAddress}</li>
        ))}
        {status?.inputs.active === 'slate' && <li><b>slate</b> on air: no input fits</li>}
      </ul>
    </section>
  );
}
