import type { IssuedKey } from '../types.js';
import { CopyField } from '../ui/copy.js';

/** A stream key just made or rotated: shown this once, with what OBS and ffmpeg need. */
export function IssuedKeyBox({ issued, server, onClose }: { issued: IssuedKey; server: string; onClose: () => void }) {
  return (
    <section class="issued" aria-label="New stream key" data-testid="issued-key">
      <h3>Stream key {issued.name ? `“${issued.name}”` : ''} ({issued.input})</h3>
      <p class="warn">Shown once: copy it now. The origin keeps only a digest.</p>
      <CopyField label="OBS Server" value={server} testid="obs-server" />
      <CopyField label="OBS Stream key" value={issued.secret} testid="stream-key" />
      <CopyField label="ffmpeg" value={`ffmpeg -re -i input.mp4 -c copy -f flv ${issued.publishUrl}`} testid="ffmpeg-line" />
      <button type="button" onClick={onClose}>I have copied it</button>
    </section>
  );
}
