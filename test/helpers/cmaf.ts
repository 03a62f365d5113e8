import { createFile, MP4BoxBuffer } from 'mp4box';

/** mp4box wants an ArrayBuffer tagged with its offset in the file. */
export function toMp4BoxBuffer(b: Buffer, fileStart: number): MP4BoxBuffer {
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return MP4BoxBuffer.fromArrayBuffer(ab, fileStart);
}

export interface ParsedTrackRun {
  trackId: number;
  tfdt: number;
  durations: number[];
  firstIsSync: boolean;
  syncCount: number;
}

export interface ParsedCmaf {
  boxes: string[];
  hasMvex: boolean;
  /** trackId → { kind, timescale, codec (RFC 6381, from the sample entry), width, height } from the init segment. */
  tracks: Map<number, { kind: string; timescale: number; codec: string; width: number; height: number }>;
  /** One entry per part (one moof each), its trafs. */
  parts: ParsedTrackRun[][];
}

/** Parses init + parts with mp4box (appended in order, as a player's SourceBuffer would). */
export function parseCmaf(init: Buffer, parts: Buffer[]): ParsedCmaf {
  const f: any = createFile();
  let pos = 0;
  for (const b of [init, ...parts]) {
    f.appendBuffer(toMp4BoxBuffer(b, pos));
    pos += b.length;
  }
  f.flush();
  const tracks: ParsedCmaf['tracks'] = new Map();
  const trex = new Map<number, any>();
  for (const t of f.moov?.mvex?.trexs ?? []) trex.set(t.track_id, t);
  for (const trak of f.moov?.traks ?? []) {
    const entry = trak.mdia.minf.stbl.stsd.entries[0];
    tracks.set(trak.tkhd.track_id, { kind: trak.mdia.hdlr.handler, timescale: trak.mdia.mdhd.timescale,
      codec: entry?.getCodec?.() ?? '', width: entry?.width ?? 0, height: entry?.height ?? 0 });
  }
  const result: ParsedCmaf = {
    boxes: f.boxes.map((b: any) => b.type),
    hasMvex: !!f.moov?.mvex,
    tracks,
    parts: [],
  };
  for (const moof of f.moofs) {
    const runs: ParsedTrackRun[] = [];
    for (const traf of moof.trafs) {
      const tfhd = traf.tfhd;
      const tx = trex.get(tfhd.track_id) ?? {};
      const defDur = tfhd.flags & 0x08 ? tfhd.default_sample_duration : tx.default_sample_duration;
      const defFlags = tfhd.flags & 0x20 ? tfhd.default_sample_flags : tx.default_sample_flags;
      const durations: number[] = [];
      let firstIsSync = false;
      let syncCount = 0;
      for (const trun of traf.truns) {
        for (let i = 0; i < trun.sample_count; i++) {
          durations.push(trun.flags & 0x100 ? trun.sample_duration[i] : defDur);
          let flags = defFlags;
          if (trun.flags & 0x400) flags = trun.sample_flags[i];
          else if (i === 0 && trun.flags & 0x4) flags = trun.first_sample_flags;
          const sync = ((flags >>> 16) & 1) === 0;
          if (sync) syncCount++;
          if (durations.length === 1) firstIsSync = sync;
        }
      }
      runs.push({ trackId: tfhd.track_id, tfdt: Number(traf.tfdt.baseMediaDecodeTime), durations, firstIsSync, syncCount });
    }
    result.parts.push(runs);
  }
  return result;
}
