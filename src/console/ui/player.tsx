import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * An HLS player: hls.js (loaded when first needed) where the browser has MSE, the browser's own
 * HLS otherwise (Safari on a phone). Live: low-latency mode, and the measured latency (wall
 * clock minus the PROGRAM-DATE-TIME of what is on screen) shown under the picture.
 */
export function HlsPlayer({ src, live, label, testid }: { src: string; live: boolean; label: string; testid: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [latency, setLatency] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const el = video.current!;
    let stopped = false;
    let destroy = () => {};
    setError(null);
    setLatency(null);
    void import('hls.js').then(({ default: Hls }) => {
      if (stopped) return;
      if (!Hls.isSupported()) {
        el.src = src;
        return;
      }
      const hls = new Hls({ lowLatencyMode: live, backBufferLength: 30 });
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) setError(`${data.type}: ${data.details}`);
      });
      hls.loadSource(src);
      hls.attachMedia(el);
      const timer = setInterval(() => {
        const pdt = hls.playingDate;
        if (live && pdt && !el.paused) setLatency((Date.now() - pdt.getTime()) / 1000);
      }, 500);
      destroy = () => { clearInterval(timer); hls.destroy(); };
    });
    return () => { stopped = true; destroy(); };
  }, [src, live]);

  return (
    <figure class="player">
      <video ref={video} muted autoPlay playsInline controls aria-label={label} data-testid={testid} />
      <figcaption>
        {label}
        {live && <> · latency <b data-testid={`${testid}-latency`}>{latency === null ? '–' : `${latency.toFixed(2)} s`}</b></>}
        {error && <span class="error" role="alert"> · {error}</span>}
      </figcaption>
    </figure>
  );
}
