// Opening libavcodec's native "aac" encoder the way every AAC encoder of the addon uses it:
// AAC-LC, planar float input, 1024-sample frames, a plain channel configuration (no PCE) and a
// global header, so the AudioSpecificConfig comes once (for the init segment) and packets are
// raw AAC frames. Used by the slate (slate_engine.cc) and the Opus transcoder (opus_to_aac.cc).
// No threads, no N-API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "av_raii.h"

namespace sigma {

/// Samples per AAC-LC frame (the encoder's frame_size).
constexpr int kAacFrameSamples = 1024;

/// The layout (mask) for this many channels that the AAC encoder writes as a plain channel
/// configuration (ISO/IEC 14496-3 table 1.19) rather than a program config element: FFmpeg
/// 5.1's aac_normal_chan_layouts (aacenctab.h); 0 for none (7 channels).
uint64_t AacLayoutFor(int channels);

/// True for the twelve sampling frequencies an AudioSpecificConfig can name by index.
bool IsAacSampleRate(int rate);

struct AacEncoder {
  CodecContextPtr ctx;       // open; takes fltp frames of kAacFrameSamples at ctx->sample_rate, pts in 1/sample_rate
  std::vector<uint8_t> asc;  // AudioSpecificConfig (the encoder's extradata), checked
};

/// Opens the encoder. Throws NativeError with `errorCode` when libavcodec has no aac encoder,
/// the channel count has no plain layout, the encoder refuses the settings, or its frame size
/// or AudioSpecificConfig is not what a CMAF track needs.
AacEncoder OpenAacEncoder(int sampleRate, int channels, int64_t bitrate, const std::string& errorCode);

/// A frame in the encoder's input format (format, rate, layout) with room for `samples`.
/// Throws std::bad_alloc.
FramePtr MakeAacInputFrame(const AVCodecContext* enc, int samples);

}  // namespace sigma
