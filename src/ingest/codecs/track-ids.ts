/** Track ids every ingest assigns (the convention of media/types.ts): RTMP, SRT and WHIP alike. */
export const VIDEO_TRACK_ID = 0;
export const AUDIO_TRACK_ID = 1;
