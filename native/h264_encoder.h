// Opening libx264 through libavcodec the way every H.264 encoder of the addon uses it: no
// B-frames (output order = input order, dts == pts), keyframes only where the caller forces
// them (an IDR, closed GOP), and a global header, so SPS/PPS come once as the avcC of the init
// segment and packets carry only slices. Used by the ABR ladder (transcoder.cc) and the slate
// (slate_engine.cc). No threads, no N-API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "av_raii.h"

namespace sigma {

struct H264EncoderSettings {
  int width = 0, height = 0;
  double frameRate = 30;           // for rate control (AVCodecContext.framerate)
  int timescale = 1000;            // frames' pts are in 1/timescale s
  int64_t bitrate = 0;             // bits/s, x264 ABR; 0: constant quality (crf)
  int crf = 23;                    // when bitrate is 0
  int64_t maxRate = 0;             // VBV cap, bits/s; 0: none
  int64_t bufferSize = 0;          // VBV buffer, bits (with maxRate)
  std::string profile = "high";    // baseline | main | high
  std::string preset = "veryfast";
  std::string tune;                // "" or x264 tunes, e.g. "stillimage,zerolatency"
  int threads = 1;                 // x264 threads (0: x264 decides)
  // Colour description written into the SPS (VUI); unspecified by default.
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
  AVColorPrimaries primaries = AVCOL_PRI_UNSPECIFIED;
  AVColorTransferCharacteristic transfer = AVCOL_TRC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
};

struct H264Encoder {
  CodecContextPtr ctx;        // open; takes yuv420p frames; a frame with pict_type I becomes an IDR
  std::vector<uint8_t> avcC;  // AVCDecoderConfigurationRecord from the encoder's global header
};

/// Opens libx264. Throws NativeError with `errorCode` when libavcodec has no libx264, refuses
/// the settings, or gives no SPS/PPS.
H264Encoder OpenH264Encoder(const H264EncoderSettings& s, const std::string& errorCode);

}  // namespace sigma
