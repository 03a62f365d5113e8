// One channel's CMAF packager: access units in, init segment + parts (moof+mdat) out, cut on
// one time grid. Pure C++ over libavformat; knows nothing about N-API or threads. The
// Pipeline runs one of these on its worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "av_raii.h"
#include "native_error.h"

namespace sigma {

enum class TrackKind { kVideo, kAudio };

struct TrackConfig {
  TrackKind kind = TrackKind::kVideo;
  int id = 0;                    // AccessUnit.trackId
  int64_t timescale = 1000;      // units per second of the AU timestamps
  std::vector<uint8_t> codecConfig;  // avcC or AudioSpecificConfig
  int width = 0, height = 0;
  double frameRate = 0;
  int sampleRate = 0, channels = 0;
};

struct MuxerOptions {
  std::vector<TrackConfig> tracks;  // at most one video and one audio
  int64_t segmentTargetMs = 2000;
  int64_t partTargetMs = 200;
  // Bounds on every part but a segment's last (PT-02/PT-03): a part never exceeds partMaxMs and,
  // when cut on the grid, is at least partMinMs. 0 = unbounded (modes that list no parts).
  int64_t partMaxMs = 0;
  int64_t partMinMs = 0;
  // Longest segment (TD-02: every EXTINF rounds to at most TARGETDURATION). A publisher whose
  // keyframes come later than that gets a segment cut on a non-keyframe. 0 = unbounded.
  int64_t segmentMaxMs = 0;
  int64_t firstMsn = 1;
};

struct Chunk {
  bool init = false;
  int64_t msn = 0;
  int partIndex = 0;
  bool independent = false;
  bool segmentStart = false;
  // This part closes its segment: the next part is index 0 of msn + 1. Decided when the part is
  // cut (the frame after it is in hand), so a playlist can close the segment and name the next
  // part without guessing.
  bool segmentEnd = false;
  int64_t startMs = 0;
  int64_t durationMs = 0;
  std::vector<uint8_t> data;
};

/// Why an access unit was not muxed.
enum class PushResult { kAccepted, kDroppedMalformed, kDroppedTimestamp, kDroppedBeforeStart };

class CmafMuxer {
 public:
  using EmitFn = std::function<void(std::unique_ptr<Chunk>)>;

  /// Validates options and builds the muxer (no output yet). Throws NativeError
  /// ERR_NATIVE_CONFIG on bad options or codec configuration.
  CmafMuxer(const MuxerOptions& opts, EmitFn emit);
  ~CmafMuxer();
  CmafMuxer(const CmafMuxer&) = delete;
  CmafMuxer& operator=(const CmafMuxer&) = delete;

  /// Writes the header and emits the init segment. Throws NativeError ERR_NATIVE_MUX.
  void Start();

  /// Muxes one access unit. `streamIndex` is the index into opts.tracks. Takes the packet
  /// (data already copied). Throws NativeError ERR_NATIVE_MUX when libavformat fails.
  PushResult Push(int streamIndex, int64_t dts, int64_t pts, bool keyframe, PacketPtr pkt);

  /// Writes held-back packets, emits the final part and finishes the file. Idempotent.
  void Finish();

  /// Access units handed to libavformat so far (held-back ones count once written).
  uint64_t written() const { return written_; }

  /// Whether stream `streamIndex` (as StreamIndexOf returns) is the video track.
  bool IsVideo(int streamIndex) const {
    return streamIndex >= 0 && streamIndex < int(tracks_.size()) && tracks_[size_t(streamIndex)].cfg.kind == TrackKind::kVideo;
  }

  /// Index of a track id in opts.tracks, -1 when unknown.
  int StreamIndexOf(int trackId) const;

 private:
  struct TrackState {
    TrackConfig cfg;
    AVStream* st = nullptr;
    AVRational srcTb{1, 1000};
    PacketPtr held;            // last packet, waiting for the next one to know its duration
    bool seen = false;
    int64_t lastDts = 0;       // stream time base, of the last accepted AU
    int64_t lastDtsMs = 0;
    int64_t lastDelta = 0;     // stream time base
  };

  static int WritePacketCb(void* opaque, uint8_t* buf, int size);
  void WriteHeld(TrackState& t, int64_t duration);
  void FlushFragment();
  void EmitPart(int64_t durationMs, bool segmentEnd);
  // Nominal duration of one primary frame (ms): exact for AAC (1024 samples), from the frame
  // rate for video, else the last measured frame interval.
  double NominalFrameMs() const;
  int64_t DefaultDuration(const TrackState& t) const;
  [[noreturn]] void Fail(const char* what, int err);

  MuxerOptions opts_;
  EmitFn emit_;
  std::vector<TrackState> tracks_;
  int primary_ = 0;
  bool primaryIsVideo_ = false;

  // Declaration order matters: fmt_ is destroyed before avio_ (fmt_ references avio_).
  AvioPtr avio_;
  FormatContextPtr fmt_;
  std::vector<uint8_t> out_;
  bool headerWritten_ = false;
  bool finished_ = false;
  uint64_t written_ = 0;

  // Time grid state, milliseconds of the media clock.
  bool started_ = false;
  int64_t firstStartMs_ = 0;
  int64_t msn_ = 0;
  int partIndex_ = 0;
  int64_t gridSlot_ = 0;
  int64_t segmentStartMs_ = 0;
  bool segmentIndependent_ = false;  // the open segment started on a keyframe
  int64_t partStartMs_ = 0;
  bool partIndependent_ = false;
  bool partSegmentStart_ = false;
  int64_t lastPrimaryMs_ = 0;
  int64_t frameDurMs_ = 0;
};

}  // namespace sigma
