import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { useSession } from '../session.js';
import type { Channel } from '../types.js';
import { HlsPlayer } from '../ui/player.js';

/**
 * The live preview. A channel that needs playback tokens, or one still in preview (before
 * Start), plays only with a token: the console mints a short one (preview allowed) when its API
 * token may (write scope).
 */
export function LivePreview({ channel }: { channel: Channel }) {
  const session = useSession();
  const state = channel.status?.state;
  const needsToken = channel.playbackTokenPolicy === 'required' || state === 'preview';
  const [src, setSrc] = useState<string | null>(needsToken ? null : channel.urls.playback);
  const [why, setWhy] = useState<string | null>(null);

  useEffect(() => {
    if (!needsToken) { setSrc(channel.urls.playback); return; }
    if (!session.can('write')) { setSrc(null); setWhy('This channel plays with a playback token only, which a read-only API token cannot mint.'); return; }
    api<{ playbackUrl: string }>('POST', `/v1/channels/${enc(channel.id)}/playback-tokens`, { expiresInSec: 3600, preview: true })
      .then((t) => setSrc(t.playbackUrl), (err: Error) => setWhy(err.message));
  }, [channel.id, channel.urls.playback, needsToken]);

  if (state !== 'live' && state !== 'preview' && state !== 'reconnecting') {
    return <p class="placeholder" data-testid="preview-off">No publisher: the preview starts when the channel goes live.</p>;
  }
  if (src === null) return <p class="placeholder">{why ?? 'Getting a playback token…'}</p>;
  return <HlsPlayer src={src} live label="Live preview" testid="preview" />;
}
