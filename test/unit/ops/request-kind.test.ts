import t from 'tap';
import { channelOfPath, requestKind, statusClass } from '../../../src/ops/metrics/request-kind.js';

t.test('every delivery route has its kind', async (t) => {
  const cases: [string, string, string][] = [
    ['/live/demo/index.m3u8', '', 'playlist'],
    ['/live/demo/source.m3u8', '', 'playlist'],
    ['/live/demo/source.m3u8', '_HLS_msn=12&_HLS_part=3', 'blocking_playlist'],
    ['/live/demo/source.m3u8', 'token=abc', 'playlist'],
    ['/live/demo/source/898294227.6.m4s', '', 'part'],
    ['/live/demo/720p/12.0.m4s', '', 'part'],
    ['/live/demo/source/898294227.m4s', '', 'segment'],
    ['/live/demo/source/init-1764000000.mp4', '', 'init'],
    ['/live/demo/archive/1764000000-1764003600.m3u8', '', 'archive'],
    ['/live/demo/archive/1764000000-1764003600/index.m3u8', '', 'archive'],
    ['/live/demo/archive/sessions.json', '', 'archive'],
    ['/live/demo/archive/source/2026112516/898294227.m4s', '', 'archive'],
    ['/live/demo/archive/source/init-1764000000.mp4', '', 'archive'],
    ['/live/demo/archive/1764000000-1764003600.vtt', '', 'thumbnail'],
    ['/live/demo/thumbnail.jpg', '', 'thumbnail'],
    ['/live/demo/thumbnails/1764000000.jpg', '', 'thumbnail'],
    ['/live/demo/previews.vtt', '', 'thumbnail'],
    ['/live/demo/previews.m3u8', '', 'thumbnail'],
    ['/live/demo/previews/tiles/1764000000.jpg', '', 'thumbnail'],
    ['/player/demo', '', 'other'],
    ['/healthz', '', 'other'],
    ['/live/demo/nothing.txt', '', 'other'],
  ];
  for (const [path, query, kind] of cases) t.equal(requestKind(path, query), kind, `${path}?${query}`);
});

t.test('status classes and channel ids', async (t) => {
  t.same([200, 204, 304, 401, 404, 503, 99, 600].map(statusClass), ['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', 'other', 'other']);
  t.equal(channelOfPath('/live/demo/source.m3u8'), 'demo');
  t.equal(channelOfPath('/live/demo'), undefined, 'no slash after the id: no channel route');
  t.equal(channelOfPath('/player/demo'), undefined);
});
