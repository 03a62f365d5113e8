import t from 'tap';
import { configSchema } from '../../../../src/config/schema.js';
import { thumbnailSettings } from '../../../../src/media/thumbnails/thumbnail-settings.js';

const base = { channels: [{ id: 'a', streamKey: 'a-key-1234' }] };

t.test('defaults, and a channel overriding some keys keeps the top level\'s others', async (t) => {
  const c = configSchema.parse({ ...base, thumbnails: { width: 480, preview: { tileWidth: 200, rows: 5 } } });
  t.same(c.thumbnails, { enabled: true, intervalSec: 10, width: 480, quality: 4, preview: { enabled: true, intervalSec: 2, tileWidth: 200, columns: 10, rows: 5 } });
  t.same(thumbnailSettings(c.thumbnails, { preview: { intervalSec: 5 } }),
    { enabled: true, intervalSec: 10, width: 480, quality: 4, preview: { enabled: true, intervalSec: 5, tileWidth: 200, columns: 10, rows: 5 } },
    'only preview.intervalSec changes; tileWidth 200 and rows 5 of the top level stay');
  t.same(thumbnailSettings(c.thumbnails, { enabled: false }).enabled, false);
  t.same(thumbnailSettings(c.thumbnails, undefined), c.thumbnails);
});

t.test('mistakes name their key', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ thumbnails: { width: 321 } }, 'thumbnails.width'],
    [{ thumbnails: { preview: { columns: 0 } } }, 'thumbnails.preview.columns'],
    [{ thumbnails: { quality: 1 } }, 'thumbnails.quality'],
    [{ thumbnails: { bogus: 1 } }, 'thumbnails'],
    [{ channels: [{ id: 'a', streamKey: 'a-key-1234', thumbnails: { preview: { tileWidth: 161 } } }] }, 'channels.0.thumbnails.preview.tileWidth'],
  ];
  for (const [input, path] of cases) {
    const r = configSchema.safeParse({ ...base, ...(input as object) });
    t.notOk(r.success, `${JSON.stringify(input)} is refused`);
    t.ok(!r.success && r.error.issues.some((i) => i.path.join('.') === path), `the issue names ${path}`);
  }
});
