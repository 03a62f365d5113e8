// The slate: a short loop of encoded media (H.264 of one still picture, AAC-LC silence) that the
// origin repeats in place of a publisher whose input is gone. Pure C++ over libavcodec/libswscale;
// no N-API, no threads of its own (slate_encoder.cc runs it on the libuv pool).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmaf_muxer.h"  // TrackConfig
#include "native_error.h"

namespace sigma {

struct SlateVideoRequest {
  int width = 0, height = 0;       // even, 16..4096
  double frameRate = 0;            // 1..240
  std::vector<uint8_t> i420;       // width*height*3/2 bytes (planar Y, U, V), or empty with imagePath
  std::string imagePath;           // a PNG or JPEG file, letterboxed to width x height
  int gopFrames = 0;               // an IDR every this many frames, from frame 0
  int bitrateKbps = 300;           // VBV cap (maxrate; buffer 2 s of it)
};

struct SlateAudioRequest {
  int sampleRate = 0;  // an AAC sampling frequency (8000..96000)
  int channels = 0;    // 1..6 or 8
};

struct SlateRequest {
  std::optional<SlateVideoRequest> video;
  std::optional<SlateAudioRequest> audio;
  int64_t durationMs = 0;  // wanted loop length, 100..30000
};

/// One access unit of the loop, timestamps in ms from 0 (dts == pts for both tracks).
struct SlateUnit {
  int trackId = 0;  // 0 video, 1 audio
  int64_t timeMs = 0;
  bool keyframe = false;
  std::vector<uint8_t> data;  // video: AVCC (4-byte lengths); audio: one raw AAC frame
};

struct SlateClip {
  std::optional<TrackConfig> video;  // id 0, timescale 1000, codecConfig = avcC
  std::optional<TrackConfig> audio;  // id 1, timescale 1000, codecConfig = AudioSpecificConfig
  std::vector<SlateUnit> units;      // dts order; video first on equal times
  int64_t durationMs = 0;            // the loop's length: repetition r starts at r * durationMs
};

/// The loop's length in whole video frames and whole AAC frames. With both tracks the length
/// is the one nearest the request at which N video frames and K AAC frames (1024 samples) end
/// within 0.5 ms of each other, so a repeated loop keeps both tracks evenly spaced (≤ 1 ms of
/// jitter at the boundary, as millisecond rounding gives anyway); see native/README.md.
struct SlateLoop {
  int videoFrames = 0;
  int audioFrames = 0;
  int64_t durationMs = 0;
};

/// fps 0: no video; sampleRate 0: no audio.
SlateLoop PlanSlateLoop(double fps, int sampleRate, int64_t requestedMs);

/// Checks sizes, rates and ranges. Throws NativeError ERR_SLATE_CONFIG.
void CheckSlateRequest(const SlateRequest& req);

/// Decodes the image (if any), encodes the loop. Throws NativeError ERR_SLATE_CONFIG,
/// ERR_SLATE_IMAGE (unreadable, not PNG/JPEG, undecodable) or ERR_SLATE_ENCODE.
SlateClip EncodeSlate(const SlateRequest& req);

}  // namespace sigma
