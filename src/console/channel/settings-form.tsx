import type { Channel } from '../types.js';

/**
 * A channel's settings as form fields, for creating and for editing. Only what an operator sets
 * often is here; the rest (failover, allow-list, SRT passphrase) keeps its value and is set
 * through the API (docs/api.md).
 */

export interface ChannelSettings {
  name: string;
  latencyMode: 'normal' | 'low' | 'ultra-low';
  transcode: string;
  dvrWindowSec: number | null;
  record: boolean;
  autoStart: boolean;
  playbackTokenPolicy: 'none' | 'required';
}

const TRANSCODES = ['passthrough', 'hd', 'sd', 'mobile'];

export function settingsFromForm(form: HTMLFormElement): ChannelSettings {
  const f = new FormData(form);
  const dvr = String(f.get('dvrWindowSec') ?? '').trim();
  return {
    name: String(f.get('name')).trim(),
    latencyMode: f.get('latencyMode') as ChannelSettings['latencyMode'],
    transcode: String(f.get('transcode')),
    dvrWindowSec: dvr === '' ? null : Number(dvr),
    record: f.get('record') === 'on',
    autoStart: f.get('autoStart') === 'on',
    playbackTokenPolicy: f.get('playbackTokens') === 'on' ? 'required' : 'none',
  };
}

export function SettingsFields({ channel, idField = false }: { channel?: Channel; idField?: boolean }) {
  const transcode = typeof channel?.transcode === 'string' ? channel.transcode : 'passthrough';
  const transcodes = TRANSCODES.includes(transcode) ? TRANSCODES : [...TRANSCODES, transcode];
  return (
    <div class="fields">
      {idField && (
        <label><span>Id (in URLs; optional)</span>
          <input name="id" pattern="[a-z0-9][a-z0-9_\-]{0,63}" autoComplete="off" placeholder="generated" title="lower-case letters, digits, - and _" /></label>
      )}
      <label><span>Name</span><input name="name" required maxLength={200} defaultValue={channel?.name ?? ''} /></label>
      <label><span>Latency mode</span>
        <select name="latencyMode" defaultValue={channel?.latencyMode ?? 'ultra-low'}>
          <option value="ultra-low">ultra-low (LL-HLS, ~1 s)</option>
          <option value="low">low (~6-10 s)</option>
          <option value="normal">normal (~20-30 s)</option>
        </select></label>
      <label><span>Transcode</span>
        <select name="transcode" defaultValue={transcode}>
          {transcodes.map((t) => <option value={t}>{t === 'passthrough' ? 'passthrough (no transcode)' : `ladder: ${t}`}</option>)}
        </select></label>
      <label><span>DVR window, seconds (empty: server default)</span>
        <input name="dvrWindowSec" type="number" min={0} step={1} defaultValue={channel?.dvrWindowSec?.toString() ?? ''} /></label>
      <label class="check"><input type="checkbox" name="autoStart" defaultChecked={channel?.autoStart ?? true} /> Live as soon as the publisher connects</label>
      <label class="check"><input type="checkbox" name="record" defaultChecked={channel?.record ?? false} /> Record each session to a file</label>
      <label class="check"><input type="checkbox" name="playbackTokens" defaultChecked={channel?.playbackTokenPolicy === 'required'} /> Playback needs a signed token</label>
    </div>
  );
}
