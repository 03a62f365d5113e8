/**
 * What an SRT caller's streamid asks for. Accepted forms, as OBS, ffmpeg, vMix and hardware
 * encoders send them: the SRT access-control syntax `#!::r=live/<key>,m=publish` (keys in any
 * order; `r` may also be the bare key), `publish:live/<key>`, `live/<key>`, or the bare key.
 */
export type StreamIdRequest =
  | { ok: true; streamKey: string }
  | { ok: false; reason: string; badMode?: boolean };

const KEY = /^[A-Za-z0-9._~+=-]{1,256}$/;

export function parseStreamId(raw: string): StreamIdRequest {
  let sid = raw.trim();
  // Some callers send it URL-encoded (a streamid typed into a URL's query).
  if (/%[0-9A-Fa-f]{2}/.test(sid)) {
    try { sid = decodeURIComponent(sid); } catch { /* not encoding after all */ }
  }
  if (sid === '') return { ok: false, reason: 'no streamid: set streamid to the stream key (e.g. #!::r=live/<key>,m=publish)' };
  let resource: string;
  let mode = 'publish';
  if (sid.startsWith('#!::')) {
    const fields = new Map<string, string>();
    for (const kv of sid.slice(4).split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) fields.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    resource = fields.get('r') ?? '';
    // SRT's access-control convention defaults to request; a caller to an ingest means publish.
    mode = fields.get('m') ?? 'publish';
  } else if (/^(publish|read|request):/.test(sid)) {
    const colon = sid.indexOf(':');
    mode = sid.slice(0, colon) === 'publish' ? 'publish' : 'request';
    resource = sid.slice(colon + 1);
  } else {
    resource = sid;
  }
  if (mode !== 'publish') return { ok: false, badMode: true, reason: `streamid mode "${mode}": this listener only takes publishers (play the channel over HLS)` };
  const key = resource.replace(/^\/?live\//, '');
  if (!KEY.test(key)) return { ok: false, reason: 'the streamid does not name a stream key (r=live/<key>)' };
  return { ok: true, streamKey: key };
}
