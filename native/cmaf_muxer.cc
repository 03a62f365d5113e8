#include "cmaf_muxer.h"

#include <cstring>

#include "codec_config.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
}

namespace sigma {
namespace {

constexpr int kAvioBufferSize = 64 * 1024;
// A forward dts jump larger than this (per track) is treated as a broken timestamp, not as
// media: a sample duration of minutes would stall every player's buffer, and RTMP timestamps
// never legitimately jump that far within one publish session.
constexpr int64_t kMaxForwardJumpMs = 30'000;
constexpr AVRational kMs{1, 1000};

std::string AvErr(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

[[noreturn]] void ConfigError(const std::string& msg) { throw NativeError("ERR_NATIVE_CONFIG", msg); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

}  // namespace

CmafMuxer::CmafMuxer(const MuxerOptions& opts, EmitFn emit) : opts_(opts), emit_(std::move(emit)) {
  if (opts_.tracks.empty() || opts_.tracks.size() > 2) ConfigError("expected one video and/or one audio track");
  if (opts_.segmentTargetMs <= 0 || opts_.segmentTargetMs > 60'000) ConfigError("segmentTargetMs out of range (1..60000)");
  if (opts_.partTargetMs <= 0 || opts_.partTargetMs > opts_.segmentTargetMs)
    ConfigError("partTargetMs out of range (1..segmentTargetMs)");
  if (opts_.firstMsn < 1) ConfigError("firstMsn must be >= 1");
  if (opts_.partMaxMs < 0 || opts_.partMinMs < 0 || (opts_.partMaxMs > 0 && opts_.partMinMs > opts_.partMaxMs))
    ConfigError("partMinMs/partMaxMs out of range (0 <= min <= max)");
  if (opts_.segmentMaxMs < 0 || (opts_.segmentMaxMs > 0 && opts_.segmentMaxMs < opts_.segmentTargetMs))
    ConfigError("segmentMaxMs out of range (0, or >= segmentTargetMs)");

  // Video (if any) becomes stream 0: it is the primary track that drives the cuts.
  std::vector<TrackConfig> ordered;
  int videos = 0, audios = 0;
  for (const auto& t : opts_.tracks) {
    if (t.kind == TrackKind::kVideo) {
      videos++;
      ordered.insert(ordered.begin(), t);
    } else {
      audios++;
      ordered.push_back(t);
    }
  }
  if (videos > 1 || audios > 1) ConfigError("at most one video and one audio track");
  if (ordered.size() == 2 && ordered[0].id == ordered[1].id) ConfigError("track ids must differ");
  opts_.tracks = ordered;

  for (const auto& t : opts_.tracks) {
    if (t.timescale <= 0 || t.timescale > 10'000'000) ConfigError("track timescale out of range");
    if (t.kind == TrackKind::kVideo) {
      if (t.width <= 0 || t.height <= 0 || t.width > 16384 || t.height > 16384) ConfigError("video width/height out of range");
      std::string why = CheckAvcC(t.codecConfig.data(), t.codecConfig.size());
      if (!why.empty()) ConfigError("video codecConfig: " + why);
    } else {
      if (t.sampleRate < 1000 || t.sampleRate > 192'000) ConfigError("audio sampleRate out of range");
      if (t.channels < 1 || t.channels > 8) ConfigError("audio channels out of range (1..8)");
      AudioSpecificConfigInfo info;
      std::string why = CheckAudioSpecificConfig(t.codecConfig.data(), t.codecConfig.size(), &info);
      if (!why.empty()) ConfigError("audio codecConfig: " + why);
    }
  }

  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr);
  if (err < 0 || !raw) throw NativeError("ERR_NATIVE_CONFIG", "mp4 muxer unavailable: " + AvErr(err));
  fmt_.reset(raw);

  uint8_t* buf = static_cast<uint8_t*>(av_malloc(kAvioBufferSize));
  if (!buf) throw std::bad_alloc();
  AVIOContext* pb = avio_alloc_context(buf, kAvioBufferSize, 1, this, nullptr, &CmafMuxer::WritePacketCb, nullptr);
  if (!pb) {
    av_free(buf);
    throw std::bad_alloc();
  }
  avio_.reset(pb);
  fmt_->pb = pb;
  fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;

  for (const auto& t : opts_.tracks) {
    TrackState ts;
    ts.cfg = t;
    ts.srcTb = AVRational{1, int(t.timescale)};
    AVStream* st = avformat_new_stream(fmt_.get(), nullptr);
    if (!st) throw std::bad_alloc();
    AVCodecParameters* par = st->codecpar;
    par->extradata = static_cast<uint8_t*>(av_mallocz(t.codecConfig.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!par->extradata) throw std::bad_alloc();
    std::memcpy(par->extradata, t.codecConfig.data(), t.codecConfig.size());
    par->extradata_size = int(t.codecConfig.size());
    if (t.kind == TrackKind::kVideo) {
      par->codec_type = AVMEDIA_TYPE_VIDEO;
      par->codec_id = AV_CODEC_ID_H264;
      par->width = t.width;
      par->height = t.height;
      st->time_base = AVRational{1, 90000};
      if (t.frameRate > 0) st->avg_frame_rate = av_d2q(t.frameRate, 1001000);
    } else {
      par->codec_type = AVMEDIA_TYPE_AUDIO;
      par->codec_id = AV_CODEC_ID_AAC;
      par->sample_rate = t.sampleRate;
      av_channel_layout_default(&par->ch_layout, t.channels);
      par->frame_size = 1024;
      st->time_base = AVRational{1, t.sampleRate};
    }
    ts.st = st;
    tracks_.push_back(std::move(ts));
  }
  primary_ = 0;
  primaryIsVideo_ = tracks_[0].cfg.kind == TrackKind::kVideo;
}

CmafMuxer::~CmafMuxer() = default;

int CmafMuxer::StreamIndexOf(int trackId) const {
  for (size_t i = 0; i < tracks_.size(); i++)
    if (tracks_[i].cfg.id == trackId) return int(i);
  return -1;
}

int CmafMuxer::WritePacketCb(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<CmafMuxer*>(opaque);
  try {
    self->out_.insert(self->out_.end(), buf, buf + size);
  } catch (...) {
    return AVERROR(ENOMEM);
  }
  return size;
}

void CmafMuxer::Fail(const char* what, int err) {
  throw NativeError("ERR_NATIVE_MUX", std::string(what) + ": " + AvErr(err));
}

void CmafMuxer::Start() {
  AVDictionary* d = nullptr;
  // frag_custom: we decide every fragment boundary (one fragment = one LL-HLS part).
  // empty_moov: the header is a self-contained init segment. default_base_moof + cmaf:
  // CMAF-conformant fragments (tfdt in every traf, no edit lists, negative CTS offsets).
  // skip_sidx: a sidx per part is useless for HLS parts. frag_discont: take each track's
  // first dts as its tfdt instead of forcing 0, so the publisher's clock passes through.
  av_dict_set(&d, "movflags", "frag_custom+empty_moov+default_base_moof+cmaf+skip_sidx+skip_trailer+frag_discont", 0);
  av_dict_set(&d, "use_editlist", "0", 0);
  av_dict_set(&d, "avoid_negative_ts", "disabled", 0);
  if (primaryIsVideo_) av_dict_set(&d, "video_track_timescale", "90000", 0);
  int err = avformat_write_header(fmt_.get(), &d);
  av_dict_free(&d);
  if (err < 0) Fail("avformat_write_header", err);
  headerWritten_ = true;
  avio_flush(fmt_->pb);
  auto c = std::make_unique<Chunk>();
  c->init = true;
  c->data.swap(out_);
  emit_(std::move(c));
}

int64_t CmafMuxer::DefaultDuration(const TrackState& t) const {
  if (t.lastDelta > 0) return t.lastDelta;
  if (t.cfg.kind == TrackKind::kAudio) return av_rescale_q(1024, AVRational{1, t.cfg.sampleRate}, t.st->time_base);
  const double fps = t.cfg.frameRate > 0 ? t.cfg.frameRate : 30.0;
  return std::max<int64_t>(1, av_rescale_q(int64_t(1000.0 / fps + 0.5), kMs, t.st->time_base));
}

void CmafMuxer::WriteHeld(TrackState& t, int64_t duration) {
  if (!t.held) return;
  t.held->duration = duration;
  // av_write_frame takes the packet's reference and leaves it blank; we keep ownership.
  int err = av_write_frame(fmt_.get(), t.held.get());
  t.held.reset();
  if (err < 0) Fail("av_write_frame", err);
  written_++;
}

void CmafMuxer::FlushFragment() {
  int err = av_write_frame(fmt_.get(), nullptr);
  if (err < 0) Fail("fragment flush", err);
  avio_flush(fmt_->pb);
}

double CmafMuxer::NominalFrameMs() const {
  const TrackConfig& p = tracks_[size_t(primary_)].cfg;
  if (p.kind == TrackKind::kAudio) return 1024.0 * 1000.0 / p.sampleRate;
  if (p.frameRate > 0) return 1000.0 / p.frameRate;
  return double(frameDurMs_);
}

void CmafMuxer::EmitPart(int64_t durationMs, bool segmentEnd) {
  auto c = std::make_unique<Chunk>();
  c->msn = msn_;
  c->partIndex = partIndex_;
  c->independent = partIndependent_;
  c->segmentStart = partSegmentStart_;
  c->segmentEnd = segmentEnd;
  c->startMs = partStartMs_;
  c->durationMs = durationMs;
  c->data.swap(out_);
  emit_(std::move(c));
}

PushResult CmafMuxer::Push(int si, int64_t dts, int64_t pts, bool keyframe, PacketPtr pkt) {
  if (finished_ || si < 0 || si >= int(tracks_.size()) || !pkt || pkt->size <= 0) return PushResult::kDroppedMalformed;
  TrackState& t = tracks_[si];
  const bool video = t.cfg.kind == TrackKind::kVideo;
  if (video ? !IsWellFormedAvcc(pkt->data, size_t(pkt->size)) : !IsPlausibleRawAac(pkt->data, size_t(pkt->size)))
    return PushResult::kDroppedMalformed;

  if (dts < 0) return PushResult::kDroppedTimestamp;
  if (pts < dts) pts = dts;  // H.264 never presents before decoding; libavformat rejects pts < dts
  const int64_t dtsMs = av_rescale_q_rnd(dts, t.srcTb, kMs, AV_ROUND_NEAR_INF);
  const int64_t stDts = av_rescale_q(dts, t.srcTb, t.st->time_base);
  const int64_t stPts = av_rescale_q(pts, t.srcTb, t.st->time_base);
  if (t.seen) {
    // Backwards or equal dts (after conversion) would make libavformat fail the whole file.
    if (stDts <= t.lastDts) return PushResult::kDroppedTimestamp;
    if (dtsMs - t.lastDtsMs > kMaxForwardJumpMs) return PushResult::kDroppedTimestamp;
  }

  const bool isPrimary = si == primary_;
  const bool startsSegment = video ? keyframe : true;
  if (!started_) {
    // Nothing before the first primary keyframe: a segment must start decodable.
    if (!isPrimary || !startsSegment) return PushResult::kDroppedBeforeStart;
    started_ = true;
    firstStartMs_ = dtsMs;
    msn_ = opts_.firstMsn;
    partIndex_ = 0;
    gridSlot_ = 0;
    segmentStartMs_ = partStartMs_ = dtsMs;
    segmentIndependent_ = true;
    partIndependent_ = true;
    partSegmentStart_ = true;
  } else if (!isPrimary && dtsMs < firstStartMs_) {
    return PushResult::kDroppedBeforeStart;
  }

  pkt->stream_index = si;
  pkt->dts = stDts;
  pkt->pts = stPts;
  pkt->flags = keyframe || !video ? AV_PKT_FLAG_KEY : 0;

  if (t.seen) t.lastDelta = stDts - t.lastDts;
  const bool first = !t.seen;
  t.seen = true;
  t.lastDts = stDts;
  t.lastDtsMs = dtsMs;

  if (isPrimary && !first) {
    frameDurMs_ = dtsMs - lastPrimaryMs_;
    lastPrimaryMs_ = dtsMs;
    const int64_t segT = opts_.segmentTargetMs, partT = opts_.partTargetMs;
    // A segment starts at the first keyframe past a multiple of the target; when the publisher's
    // keyframe is later than segmentMaxMs allows, the segment is cut here without one (its first
    // part is then not independent) rather than outgrow TARGETDURATION.
    const bool overMax = opts_.segmentMaxMs > 0 && double(dtsMs - segmentStartMs_) + NominalFrameMs() > double(opts_.segmentMaxMs);
    // After such a cut the next keyframe starts a segment at once, so players find a join point.
    const bool newSegment =
        (startsSegment && (FloorDiv(dtsMs, segT) > FloorDiv(segmentStartMs_, segT) || !segmentIndependent_)) || overMax;
    // Part k+1 starts at the first AU with dts >= segmentStart + (k+1)·partTarget − frameDur/2:
    // the grid snaps to the nearest frame, so ±1 ms jitter does not shift parts by a frame.
    auto reached = [&](int64_t slot) { return 2 * dtsMs >= 2 * (segmentStartMs_ + slot * partT) - frameDurMs_; };
    // The grid point is honoured only when the part is long enough (PT-03: ≥ 0.85 × PART-TARGET),
    // and a part is cut before the grid when keeping this frame would make it longer than
    // partMaxMs (PT-02). On frame grids that do not divide the part target (AAC's 21.3 or 23.2 ms,
    // 24 fps) nearest-frame snapping alone gives parts up to half a frame over the target.
    const int64_t lenMs = dtsMs - partStartMs_;
    const bool tooLongIfKept = opts_.partMaxMs > 0 && double(lenMs) + NominalFrameMs() > double(opts_.partMaxMs);
    const bool newPart = !newSegment && ((reached(gridSlot_ + 1) && lenMs >= opts_.partMinMs) || tooLongIfKept);
    if (newSegment || newPart) {
      WriteHeld(t, t.lastDelta);
      // The other track's frame that began before the cut ends the part too (it would have
      // waited for its successor, into the next part): a part's audio then reaches its video's
      // end instead of stopping up to one AAC frame (21 ms) short of it. A player sees the
      // part's media end where the part ends: hls.js, whose buffer ended 16 ms short of the
      // segment in every fourth segment (48 kHz against 30 fps), took such a segment for loaded
      // after a mid-segment level switch and stopped loading until it nudged the playhead 5 s on.
      for (auto& o : tracks_) {
        if (&o == &t || !o.held) continue;
        if (av_rescale_q(o.held->dts, o.st->time_base, kMs) < dtsMs) WriteHeld(o, DefaultDuration(o));
      }
      FlushFragment();
      EmitPart(lenMs, newSegment);
      if (newSegment) {
        msn_++;
        partIndex_ = 0;
        gridSlot_ = 0;
        segmentStartMs_ = dtsMs;
        segmentIndependent_ = startsSegment;
      } else {
        partIndex_++;
        gridSlot_++;
        while (reached(gridSlot_ + 1)) gridSlot_++;  // after a gap, resync to the grid
      }
      partStartMs_ = dtsMs;
      partIndependent_ = startsSegment;
      partSegmentStart_ = partIndex_ == 0;
      t.held = std::move(pkt);
      return PushResult::kAccepted;
    }
  } else if (isPrimary) {
    lastPrimaryMs_ = dtsMs;
  }

  if (t.held) WriteHeld(t, t.lastDelta);
  t.held = std::move(pkt);
  return PushResult::kAccepted;
}

void CmafMuxer::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!headerWritten_) return;
  if (started_) {
    TrackState& p = tracks_[primary_];
    const int64_t lastDurMs = av_rescale_q(DefaultDuration(p), p.st->time_base, kMs);
    for (auto& t : tracks_)
      if (t.held) WriteHeld(t, DefaultDuration(t));
    FlushFragment();
    EmitPart(lastPrimaryMs_ + lastDurMs - partStartMs_, true);
  }
  int err = av_write_trailer(fmt_.get());
  out_.clear();
  if (err < 0) Fail("av_write_trailer", err);
}

}  // namespace sigma
