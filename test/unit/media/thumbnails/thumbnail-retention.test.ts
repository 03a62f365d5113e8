/**
 * Thumbnails expire with the archive: the sweeper deletes their hour directories by the
 * archive's rule (whole hours that ended before now - retention), on real files.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSweeper } from '../../../../src/store/archive/archive-sweeper.js';
import { ChannelArchive } from '../../../../src/store/archive/channel-archive.js';
import { HOUR_MS, hourKey } from '../../../../src/store/archive/archive-layout.js';
import { ALWAYS_WRITABLE } from '../../../../src/store/disk/storage-gate.js';
import { ThumbnailPaths } from '../../../../src/media/thumbnails/thumbnail-layout.js';
import { silentLogger } from '../../../../src/log.js';

t.test('thumbnail hours older than the retention go, younger ones and other files stay', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sigma-thumb-sweep-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const now = Date.UTC(2026, 10, 25, 12, 30);
  const retentionMs = 24 * HOUR_MS;
  const thumbs = new ThumbnailPaths(ThumbnailPaths.channel(root, 'demo'));
  // One hour directory per hour for the last 30 hours, each with a thumbnail, a sheet and an index.
  const hours: string[] = [];
  for (let h = 30; h >= 0; h--) {
    const start = now - h * HOUR_MS;
    const hour = hourKey(start);
    hours.push(hour);
    mkdirSync(thumbs.hourDir(hour), { recursive: true });
    writeFileSync(thumbs.thumbnail(start), 'jpeg');
    writeFileSync(thumbs.sheet(start), 'jpeg');
    writeFileSync(thumbs.tilesLog(hour), `${start} ${start} 0 0 160 90\n`);
  }
  writeFileSync(join(thumbs.root, 'not-an-hour.txt'), 'x');
  const archive = new ChannelArchive(join(root, 'archive', 'demo'), 'demo', ALWAYS_WRITABLE, silentLogger());
  const sweeper = new ArchiveSweeper({ archives: () => [{ archive, retentionMs, hourTrees: [thumbs.root] }], intervalMs: 60_000, logger: silentLogger(), now: () => now });
  const result = await sweeper.sweepOnce();
  const left = readdirSync(thumbs.root).sort();
  // Cutoff 2026-11-24 12:30: hours up to 11:00-12:00 of the 24th ended before it.
  const kept = hours.filter((h) => h >= '2026112412');
  t.same(left, [...kept, 'not-an-hour.txt'], `hours from ${kept[0]} on stay`);
  t.equal(result.hoursDeleted, hours.length - kept.length, `${result.hoursDeleted} hours deleted, counted with the archive's`);
  t.same(await sweeper.sweepOnce(), { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 }, 'a second sweep deletes nothing');
});
