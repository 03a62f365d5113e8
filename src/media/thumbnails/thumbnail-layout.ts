import { join } from 'node:path';
import { hourKey } from '../../store/archive/archive-layout.js';

/**
 * Where thumbnails live on disk (beside the archive, same hour idea, so retention deletes
 * whole hours with the archive's rule; see docs/storage.md):
 *
 *   <dataDir>/thumbnails/<channel>/<YYYYMMDDHH>/<epochMs>.jpg          a periodic thumbnail, by its wall-clock time
 *   <dataDir>/thumbnails/<channel>/<YYYYMMDDHH>/sheet-<sheetId>.jpg    a sprite sheet; sheetId = epoch ms of its first
 *                                                                      tile, so it lives in that tile's hour
 *   <dataDir>/thumbnails/<channel>/<YYYYMMDDHH>/tile-<timeMs>.jpg      a preview tile alone (a segment of the live image
 *                                                                      playlist), in the hour of its time; never replaced
 *   <dataDir>/thumbnails/<channel>/<YYYYMMDDHH>/tiles.log              one line per preview tile of that hour:
 *                                                                      `<timeMs> <sheetId> <x> <y> <w> <h>`
 *
 * A tile line is appended only after the sheet version holding its pixels is on disk, so the
 * index never names an area that is still black in the file.
 */
export class ThumbnailPaths {
  constructor(readonly root: string) {}

  static channel(dataDir: string, channelId: string): string {
    return join(dataDir, 'thumbnails', channelId);
  }

  hourDir(hour: string): string {
    return join(this.root, hour);
  }

  thumbnail(timeMs: number): string {
    return join(this.root, hourKey(timeMs), `${timeMs}.jpg`);
  }

  sheet(sheetId: number): string {
    return join(this.root, hourKey(sheetId), `sheet-${sheetId}.jpg`);
  }

  tile(timeMs: number): string {
    return join(this.root, hourKey(timeMs), `tile-${timeMs}.jpg`);
  }

  tilesLog(hour: string): string {
    return join(this.root, hour, 'tiles.log');
  }
}

/** One preview tile: when it was taken and where its picture is. */
export interface TileRecord {
  /** Wall-clock time of its keyframe (PROGRAM-DATE-TIME), epoch ms. */
  timeMs: number;
  sheetId: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export function formatTileLine(t: TileRecord): string {
  return `${t.timeMs} ${t.sheetId} ${t.x} ${t.y} ${t.width} ${t.height}\n`;
}

/** Parses tiles.log; a torn last line (crash mid-append) and malformed lines are skipped. */
export function parseTilesLog(text: string): TileRecord[] {
  const out: TileRecord[] = [];
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line torn by a crash
  for (const line of lines) {
    const f = line.split(' ');
    if (f.length !== 6) continue;
    const n = f.map(Number);
    if (n.some((x) => !Number.isSafeInteger(x) || x < 0)) continue;
    out.push({ timeMs: n[0], sheetId: n[1], x: n[2], y: n[3], width: n[4], height: n[5] });
  }
  return out;
}
