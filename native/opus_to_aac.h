// Opus packets (WebRTC ingest: 48 kHz, mono or stereo, usually 20 ms) to AAC-LC frames for the
// channel pipeline: libavcodec's native opus decoder, libswresample to the encoder's layout and
// format, an AVAudioFifo cutting 1024-sample frames, libavcodec's native aac encoder. The
// output is one continuous timeline: gaps in the input (loss, DTX) become silence, a large jump
// restarts the timeline at the new pts. Pure C++; no N-API, no threads (audio_transcoder.cc
// runs it on its worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "aac_encoder.h"
#include "av_raii.h"
#include "native_error.h"

namespace sigma {

struct OpusToAacOptions {
  int inputChannels = 2;     // 1 or 2: the layout the decoder renders (Opus decodes any packet to either)
  int outputChannels = 2;    // 1 or 2: the AAC track's
  int64_t bitrate = 128000;  // AAC bits/s
};

/// One raw AAC frame (no ADTS header).
struct AacFrame {
  int64_t pts = 0;  // 48 kHz samples: the time of the frame's first sample
  std::vector<uint8_t> data;
};

class OpusToAac {
 public:
  static constexpr int kSampleRate = 48000;
  // A forward jump of the input pts beyond where the decoded samples end (in samples): above
  // kGapTolerance (2.5 ms) it is filled with silence, from kRebaseAhead (2 s) on the timeline
  // restarts; a backward one beyond kRebaseBehind (100 ms) restarts it too.
  static constexpr int64_t kGapTolerance = kSampleRate / 400;
  static constexpr int64_t kRebaseAhead = 2 * kSampleRate;
  static constexpr int64_t kRebaseBehind = kSampleRate / 10;

  /// Opens decoder, resampler and encoder. Throws NativeError ERR_NATIVE_CONFIG (bad options,
  /// a codec missing or refusing them).
  explicit OpusToAac(const OpusToAacOptions& o);

  /// The AudioSpecificConfig of the AAC track (AAC-LC, 48 kHz, outputChannels).
  const std::vector<uint8_t>& asc() const { return enc_.asc; }
  int channels() const { return outputChannels_; }

  /// Decodes one Opus packet whose first sample is at `pts` (48 kHz, from RTP) and appends the
  /// AAC frames it completes to `out`. Throws NativeError ERR_AUDIO_DECODE for a packet the
  /// decoder refuses (nothing of it reaches the timeline; the next packet fills its span with
  /// silence) or ERR_AUDIO_ENCODE; either way the engine stays usable.
  void Push(const uint8_t* data, size_t size, int64_t pts, std::vector<AacFrame>& out);

  /// End of input: the partial frame, padded with silence, and what the encoder still holds.
  /// Push() after Finish() throws ERR_AUDIO_ENCODE.
  void Finish(std::vector<AacFrame>& out);

  /// Samples of silence put in for gaps in the input (not the padding of partial frames).
  uint64_t silenceSamples() const { return silenceSamples_; }

 private:
  void Decode(const uint8_t* data, size_t size);               // into decoded_; throws ERR_AUDIO_DECODE
  void Append(const AVFrame* decoded, int64_t skip, std::vector<AacFrame>& out);  // converted, into the fifo
  void AppendSilence(int64_t samples, std::vector<AacFrame>& out);
  void PadAndFlushFifo(std::vector<AacFrame>& out);            // a partial frame padded to a whole one
  void EncodeReady(std::vector<AacFrame>& out);                // every whole frame in the fifo
  void Send(const AVFrame* frame, std::vector<AacFrame>& out);  // to the encoder (null: drain), packets out

  int outputChannels_;
  CodecContextPtr dec_;
  AacEncoder enc_;
  SwrContextPtr swr_;
  AudioFifoPtr fifo_;
  PacketPtr pkt_;                  // decoder input, then encoder output
  std::vector<FramePtr> decoded_;  // one packet's decoded frames
  FramePtr converted_;             // resampler output, grown to the largest packet
  FramePtr encFrame_;              // encoder input, kAacFrameSamples
  FramePtr silence_;               // kAacFrameSamples of silence in the encoder's format

  bool started_ = false, finished_ = false;
  int64_t fifoPts_ = 0;  // pts of the fifo's first sample: the next AAC frame's
  int64_t primingLeft_ = 0;  // encoder delay still to drop from the output (its priming packet)
  uint64_t silenceSamples_ = 0;
};

}  // namespace sigma
