// One channel's ABR ladder: decode the source video once, then per rung scale, encode with
// libx264 and mux to CMAF on the same time grid as the source. Pure C++ over libav; no N-API.
//
// Threads: Push() is called by the pipeline's worker (never blocks: a bounded input queue); one
// decode thread; one thread per rung (scale + encode + mux). Decoded frames are shared between
// rungs by reference (av_frame_ref), so a frame's pixels exist once however many rungs use it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "av_raii.h"
#include "cmaf_muxer.h"

namespace sigma {

struct RungOptions {
  std::string name;
  int width = 0, height = 0;       // output size, even numbers
  int64_t videoBitrate = 0;        // bits/s (x264 ABR with a VBV cap)
  double maxFrameRate = 0;         // 0: the source's rate
  std::string profile = "high";    // baseline | main | high
};

struct TranscodeOptions {
  std::vector<RungOptions> rungs;
  std::string preset = "veryfast";  // x264 preset
  std::string tune;                 // "" or an x264 tune such as "zerolatency"
  int encoderThreads = 1;           // x264 threads per rung
  int decoderThreads = 1;
  size_t maxInputQueue = 300;       // AUs waiting for the decoder (~5 s at 30 fps + audio)
  size_t maxFrameQueue = 4;         // decoded frames waiting for one rung's encoder
  // Offline use (files, benchmarks): a full rung makes the decoder wait instead of dropping
  // the frame. Live never waits: a slow encoder must not hold back the other rungs.
  bool waitWhenBehind = false;
};

/// Counters of one rung, readable from any thread.
struct RungCounters {
  std::atomic<uint64_t> encoded{0};
  std::atomic<uint64_t> dropped{0};  // frames this rung skipped because its encoder fell behind
  std::atomic<uint64_t> decimated{0};  // frames skipped to respect maxFrameRate
};

class Transcoder {
 public:
  /// rung is 0-based over options.rungs.
  using EmitFn = std::function<void(int rung, std::unique_ptr<Chunk>)>;
  /// The rung's encoder is open: its video track (avcC from the encoder) is known.
  using ReadyFn = std::function<void(int rung, const TrackConfig& video)>;
  /// A problem that degrades the ladder without stopping the source: code + message; rung -1
  /// for the decoder (all rungs).
  using ProblemFn = std::function<void(int rung, const std::string& code, const std::string& message)>;

  /// `source` holds the source tracks (video required) and the time grid every rung follows.
  /// Throws NativeError ERR_NATIVE_CONFIG on bad options.
  Transcoder(const MuxerOptions& source, const TranscodeOptions& opts, EmitFn emit, ReadyFn ready, ProblemFn problem);
  ~Transcoder();  // aborts and joins
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  /// Opens the decoder and the encoders, starts every rung's muxer (init segments) and the
  /// threads. A rung whose encoder cannot open is reported and left out.
  void Start();

  /// Queues one source AU (the packet is a reference, not a copy). Never blocks: when the
  /// decoder is behind, video is dropped up to the next keyframe. Returns false when dropped.
  bool Push(bool video, int64_t dts, int64_t pts, bool keyframe, PacketPtr pkt);

  /// Drains what is queued, flushes decoder, encoders and muxers (final parts), joins threads.
  void Finish();

  /// Stops at once without flushing; joins threads.
  void Abort();

  size_t rungCount() const { return rungs_.size(); }
  const RungCounters& counters(int rung) const;
  uint64_t decoderDropped() const { return decoderDropped_.load(); }
  uint64_t decodeErrors() const { return decodeErrors_.load(); }

 private:
  struct Input {
    bool video;
    int64_t dts, pts;
    bool keyframe;
    PacketPtr pkt;  // null: end of stream
  };
  struct Rung;

  void DecodeLoop();
  void Deliver(AVFrame* frame, int64_t dts);  // scales one decoded frame for every rung and queues it
  AVFrame* Scale(Rung& r, const AVFrame* in);  // decoder thread: into a spare picture of the rung, or null
  void StopRung(Rung& r, const std::string& code, const std::string& message);  // either thread
  void DeliverAudio(const Input& in);
  void EndRungs();
  void RungLoop(Rung& r);
  void StopAll();

  MuxerOptions source_;
  TrackConfig video_;
  const TrackConfig* audio_ = nullptr;  // into source_.tracks
  TranscodeOptions opts_;
  EmitFn emit_;
  ReadyFn ready_;
  ProblemFn problem_;

  std::vector<std::unique_ptr<Rung>> rungs_;
  CodecContextPtr decoder_;
  std::thread decodeThread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Input> input_;     // guarded by mu_
  bool ending_ = false;         // guarded by mu_
  bool skipToKeyframe_ = false; // pipeline worker only
  std::atomic<bool> abort_{false};
  std::atomic<uint64_t> decoderDropped_{0};
  std::atomic<uint64_t> decodeErrors_{0};

  // Decode thread only: dts of the AUs sent to the decoder, in decode order. The k-th decoded
  // frame (presentation order) takes the k-th dts, so a rung's timeline is the source's.
  std::deque<int64_t> pendingDts_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace sigma
