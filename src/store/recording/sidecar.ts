import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * The JSON written beside each recording (`<name>.mp4` ▶ `<name>.json`). It is what the
 * catalog lists and what recovery trusts, so it is replaced atomically, never edited in place.
 */
export interface RecordingSidecar {
  channel: string;
  /** The recording's file name, relative to the sidecar's folder. */
  file: string;
  /** Wall clock when the file was opened / finalized, ISO 8601 UTC; endedAt null while open. */
  startedAt: string;
  endedAt: string | null;
  /** Media time in the file, milliseconds. */
  durationMs: number;
  bytes: number;
  /** False while recording (or after a crash, until recovery finalizes it). */
  complete: boolean;
  /** Media sequence numbers of the first and last segment in the file. */
  firstMsn: number;
  lastMsn: number;
}

/** `<dir>/<name>.mp4` ▶ `<dir>/<name>.json`. */
export function sidecarPath(mp4Path: string): string {
  return mp4Path.replace(/\.mp4$/, '') + '.json';
}

/** The recording's name in its folder: 20250102T030405Z-17.mp4 (UTC start, first msn). */
export function recordingFileName(startedAtMs: number, firstMsn: number): string {
  const stamp = new Date(startedAtMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${firstMsn}.mp4`;
}

/**
 * Writes the sidecar for `mp4Path` through a temporary file and a rename, so a reader (or a
 * crash) sees the old or the new JSON, never half of one (rename(2) is atomic on one fs).
 */
export async function writeSidecar(mp4Path: string, s: Omit<RecordingSidecar, 'file'>): Promise<void> {
  const path = sidecarPath(mp4Path);
  const json = JSON.stringify({ ...s, file: basename(mp4Path) }, null, 2) + '\n';
  await writeFile(path + '.tmp', json);
  await rename(path + '.tmp', path);
}

/** Reads and checks a sidecar; undefined when it is not one (foreign or damaged JSON). */
export async function readSidecar(path: string): Promise<RecordingSidecar | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseSidecar(text);
}

/** Checks a sidecar's JSON (read from disk or from the object store); undefined when it is not one. */
export function parseSidecar(text: string): RecordingSidecar | undefined {
  let s: Partial<RecordingSidecar>;
  try {
    s = JSON.parse(text) as Partial<RecordingSidecar>;
  } catch {
    return undefined;
  }
  const ok = typeof s.channel === 'string' && typeof s.file === 'string' && typeof s.startedAt === 'string'
    && typeof s.durationMs === 'number' && typeof s.bytes === 'number' && typeof s.complete === 'boolean'
    && typeof s.firstMsn === 'number' && typeof s.lastMsn === 'number' && (s.endedAt === null || typeof s.endedAt === 'string');
  return ok ? (s as RecordingSidecar) : undefined;
}
