#include "transcoder.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#ifdef __linux__
#include <pthread.h>
#endif

#include "codec_config.h"
#include "h264_encoder.h"
#include "rate_limit.h"  // problems that repeat (decode errors, a rung behind): at most one report per 10 s

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace sigma {
namespace {

constexpr AVRational kMs{1, 1000};
// A rung's audio waits for its video to catch up (encoder delay); beyond this many AAC frames
// (~20 s) the oldest are dropped: the rung's video has stalled and memory must not grow.
constexpr size_t kMaxPendingAudio = 1000;

std::string AvErr(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

[[noreturn]] void ConfigError(const std::string& msg) { throw NativeError("ERR_NATIVE_CONFIG", msg); }

}  // namespace

struct Transcoder::Rung {
  struct Item {
    FramePtr frame;     // decoded source picture (a reference), or null
    int64_t dts = 0;    // video: the dts the rung's packet takes; audio: the AU's dts
    int64_t pts = 0;
    bool key = false;
    PacketPtr audio;    // a source AAC frame (a reference), or null
    bool end = false;
  };

  RungOptions opt;
  TrackConfig video;
  CodecContextPtr enc;
  SwsContextPtr sws;  // decoder thread only
  // Scaled pictures the encoder is done with (x264 copies its input), reused so that no frame
  // allocates and faults in fresh pages; guarded by mu.
  std::vector<FramePtr> spare;
  std::unique_ptr<CmafMuxer> muxer;
  int videoStream = -1, audioStream = -1;
  std::thread thread;
  RungCounters counters;

  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable space;  // a frame left the queue (waitWhenBehind)
  std::deque<Item> queue;   // guarded by mu
  size_t framesQueued = 0;  // guarded by mu
  bool forceKeyNext = false;  // guarded by mu: a keyframe was dropped, the next frame takes its role
  RateLimit behindReport;     // guarded by mu

  std::atomic<bool> dead{false};  // set by the rung's thread (or Start), read by the decoder's
  // Rung thread only.
  std::deque<int64_t> dtsOfSubmitted;  // in submission order = output order (no B-frames)
  std::deque<Item> pendingAudio;
  int64_t lastVideoMs = INT64_MIN;
  // Decoder thread only: the frame-rate cap (slot 0 starts at firstPts).
  int64_t firstPts = INT64_MIN;
  int64_t lastSlot = INT64_MIN;
  double slotTicks = 0;
  double halfSourceFrame = 0;
};

Transcoder::Transcoder(const MuxerOptions& source, const TranscodeOptions& opts, EmitFn emit, ReadyFn ready,
                       ProblemFn problem)
    : source_(source), opts_(opts), emit_(std::move(emit)), ready_(std::move(ready)), problem_(std::move(problem)) {
  bool haveVideo = false;
  for (const auto& t : source_.tracks) {
    if (t.kind == TrackKind::kVideo) {
      video_ = t;
      haveVideo = true;
    }
  }
  for (const auto& t : source_.tracks)
    if (t.kind == TrackKind::kAudio) audio_ = &t;
  if (!haveVideo) ConfigError("a transcode ladder needs a video track");
  if (opts_.rungs.empty() || opts_.rungs.size() > 8) ConfigError("ladder must have 1..8 rungs");
  if (opts_.encoderThreads < 0 || opts_.encoderThreads > 16) ConfigError("encoderThreads out of range (0..16)");
  if (opts_.decoderThreads < 0 || opts_.decoderThreads > 16) ConfigError("decoderThreads out of range (0..16)");
  if (opts_.maxInputQueue < 8 || opts_.maxFrameQueue < 1) ConfigError("transcode queue bounds too small");
  for (const auto& r : opts_.rungs) {
    if (r.width < 16 || r.height < 16 || r.width > 7680 || r.height > 4320 || r.width % 2 || r.height % 2)
      ConfigError("rung '" + r.name + "': size must be even and within 16x16..7680x4320");
    if (r.videoBitrate < 50'000 || r.videoBitrate > 100'000'000) ConfigError("rung '" + r.name + "': bitrate out of range");
    if (r.maxFrameRate < 0 || r.maxFrameRate > 240) ConfigError("rung '" + r.name + "': maxFrameRate out of range");
    if (r.profile != "baseline" && r.profile != "main" && r.profile != "high")
      ConfigError("rung '" + r.name + "': profile must be baseline, main or high");
    auto rung = std::make_unique<Rung>();
    rung->opt = r;
    rungs_.push_back(std::move(rung));
  }
}

Transcoder::~Transcoder() { Abort(); }

const RungCounters& Transcoder::counters(int rung) const { return rungs_.at(size_t(rung))->counters; }

void Transcoder::Start() {
  if (started_) return;
  started_ = true;

  const AVCodec* dec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (!dec) throw NativeError("ERR_TRANSCODE_DECODE", "no H.264 decoder in libavcodec");
  decoder_.reset(avcodec_alloc_context3(dec));
  if (!decoder_) throw std::bad_alloc();
  decoder_->extradata = static_cast<uint8_t*>(av_mallocz(video_.codecConfig.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!decoder_->extradata) throw std::bad_alloc();
  std::memcpy(decoder_->extradata, video_.codecConfig.data(), video_.codecConfig.size());
  decoder_->extradata_size = int(video_.codecConfig.size());
  decoder_->pkt_timebase = AVRational{1, int(video_.timescale)};
  decoder_->thread_count = opts_.decoderThreads;
  int err = avcodec_open2(decoder_.get(), dec, nullptr);
  if (err < 0) throw NativeError("ERR_TRANSCODE_DECODE", "cannot open the H.264 decoder: " + AvErr(err));

  const double sourceFps = video_.frameRate > 0 ? video_.frameRate : 30.0;
  for (size_t i = 0; i < rungs_.size(); i++) {
    Rung& r = *rungs_[i];
    const int index = int(i);
    const bool capBites = r.opt.maxFrameRate > 0 && !(video_.frameRate > 0 && r.opt.maxFrameRate >= video_.frameRate * 0.999);
    r.slotTicks = capBites ? double(video_.timescale) / r.opt.maxFrameRate : 0;
    r.halfSourceFrame = double(video_.timescale) / (video_.frameRate > 0 ? video_.frameRate : 60.0) / 2;
    try {
      const double fps = r.opt.maxFrameRate > 0 ? std::min(sourceFps, r.opt.maxFrameRate) : sourceFps;
      H264EncoderSettings es;
      es.width = r.opt.width;
      es.height = r.opt.height;
      es.frameRate = fps;
      es.timescale = int(video_.timescale);  // timestamps pass through from the source
      es.bitrate = r.opt.videoBitrate;
      // A VBV cap keeps every part near the advertised BANDWIDTH (players switch on it).
      es.maxRate = r.opt.videoBitrate * 11 / 10;
      es.bufferSize = r.opt.videoBitrate * 3 / 2;
      es.profile = r.opt.profile;
      es.preset = opts_.preset;
      es.tune = opts_.tune;
      es.threads = opts_.encoderThreads;
      // Keyframes only where the source has them (forced per frame in RungLoop); no B-frames, so
      // each packet takes the dts of the source frame it came from and the rung's timeline
      // (tfdt, part cuts) is the source's.
      H264Encoder opened = OpenH264Encoder(es, "ERR_TRANSCODE_ENCODE");
      r.enc = std::move(opened.ctx);
      r.video = TrackConfig{};
      r.video.kind = TrackKind::kVideo;
      r.video.id = video_.id;
      r.video.timescale = video_.timescale;
      r.video.codecConfig = std::move(opened.avcC);
      r.video.width = r.opt.width;
      r.video.height = r.opt.height;
      r.video.frameRate = video_.frameRate > 0 ? fps : r.opt.maxFrameRate;

      MuxerOptions mo;
      mo.tracks.push_back(r.video);
      if (audio_) mo.tracks.push_back(*audio_);
      mo.segmentTargetMs = source_.segmentTargetMs;
      mo.partTargetMs = source_.partTargetMs;
      mo.partMaxMs = source_.partMaxMs;
      mo.partMinMs = source_.partMinMs;
      mo.segmentMaxMs = source_.segmentMaxMs;
      mo.firstMsn = source_.firstMsn;
      r.muxer = std::make_unique<CmafMuxer>(mo, [this, index](std::unique_ptr<Chunk> ch) { emit_(index, std::move(ch)); });
      r.videoStream = r.muxer->StreamIndexOf(r.video.id);
      r.audioStream = audio_ ? r.muxer->StreamIndexOf(audio_->id) : -1;
      ready_(index, r.video);
      r.muxer->Start();
    } catch (const NativeError& e) {
      r.dead = true;
      r.muxer.reset();
      r.enc.reset();
      problem_(index, e.code(), "rung '" + r.opt.name + "': " + e.what());
    }
  }
  for (auto& r : rungs_)
    if (!r->dead) r->thread = std::thread(&Transcoder::RungLoop, this, std::ref(*r));
  decodeThread_ = std::thread(&Transcoder::DecodeLoop, this);
}

bool Transcoder::Push(bool video, int64_t dts, int64_t pts, bool keyframe, PacketPtr pkt) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ending_ || !started_) return false;
    if (video) {
      // Behind: drop video up to a keyframe with room to spare, so decoding restarts clean.
      if (skipToKeyframe_ && (!keyframe || input_.size() > opts_.maxInputQueue / 2)) {
        decoderDropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      skipToKeyframe_ = false;
      if (input_.size() >= opts_.maxInputQueue) {
        skipToKeyframe_ = true;
        decoderDropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } else if (input_.size() >= 2 * opts_.maxInputQueue) {
      return false;
    }
    input_.push_back(Input{video, dts, pts, keyframe, std::move(pkt)});
  }
  cv_.notify_one();
  return true;
}

void Transcoder::DecodeLoop() {
#ifdef __linux__
  pthread_setname_np(pthread_self(), "sigma-decode");  // its CPU shows by name in top and /proc
#endif
  FramePtr frame(av_frame_alloc());
  if (!frame) {
    problem_(-1, "ERR_NATIVE_NOMEM", "cannot allocate a frame");
    EndRungs();
    return;
  }
  RateLimit errorReport;
  auto drainFrames = [&]() {
    while (avcodec_receive_frame(decoder_.get(), frame.get()) == 0) {
      int64_t pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->best_effort_timestamp;
      int64_t dts = pts;
      if (!pendingDts_.empty()) {
        dts = std::min(pendingDts_.front(), pts);
        pendingDts_.pop_front();
      }
      frame->pts = pts;
      if (frame->decode_error_flags) {
        // libavcodec concealed damage (missing references, broken slices): the picture goes on
        // to the rungs, as a player would show it, and the channel hears about it.
        const uint64_t n = decodeErrors_.fetch_add(1) + 1;
        if (errorReport.Due())
          problem_(-1, "ERR_TRANSCODE_DECODE", "damaged video concealed by the decoder (" + std::to_string(n) + " frames so far)");
      }
      Deliver(frame.get(), dts);
      av_frame_unref(frame.get());
    }
  };
  for (;;) {
    Input in;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return abort_.load() || ending_ || !input_.empty(); });
      if (abort_.load()) return;
      if (input_.empty()) break;  // ending and drained
      in = std::move(input_.front());
      input_.pop_front();
    }
    if (!in.video) {
      DeliverAudio(in);
      continue;
    }
    in.pkt->dts = in.dts;
    in.pkt->pts = in.pts;
    in.pkt->flags = in.keyframe ? AV_PKT_FLAG_KEY : 0;
    const int err = avcodec_send_packet(decoder_.get(), in.pkt.get());
    if (err < 0) {
      const uint64_t n = decodeErrors_.fetch_add(1) + 1;
      if (errorReport.Due())
        problem_(-1, "ERR_TRANSCODE_DECODE", "undecodable video (" + std::to_string(n) + " so far): " + AvErr(err));
    } else {
      pendingDts_.push_back(in.dts);
      // A decoder that never outputs (broken stream) must not grow this list.
      if (pendingDts_.size() > 64) pendingDts_.pop_front();
    }
    drainFrames();
  }
  avcodec_send_packet(decoder_.get(), nullptr);
  drainFrames();
  EndRungs();
}

// Each rung's picture is scaled here, on the decoder's thread, while the decoded frame is still
// in this core's cache: the rungs' threads then read only their own small pictures (2.4 MB a
// frame for 720p/480p/360p) instead of each reading the 3 MB 1080p frame from the other core.
void Transcoder::Deliver(AVFrame* frame, int64_t dts) {
  const bool key = frame->key_frame != 0;
  for (auto& rp : rungs_) {
    Rung& r = *rp;
    if (r.dead) continue;
    // Frame-rate cap: time is cut into slots of 1/maxFrameRate and the first frame of each slot
    // is kept (as ffmpeg's fps filter does), so the rate is exactly min(source, cap); half a
    // source frame of slack keeps millisecond jitter from moving a frame into the wrong slot.
    if (r.slotTicks > 0) {
      if (r.firstPts == INT64_MIN) r.firstPts = frame->pts;
      const int64_t slot = int64_t(std::floor(double(frame->pts - r.firstPts + r.halfSourceFrame) / r.slotTicks));
      if (slot <= r.lastSlot && !key) {
        r.counters.decimated.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      r.lastSlot = std::max(r.lastSlot, slot);
    }
    bool forcedKey = false;
    {
      std::unique_lock<std::mutex> lock(r.mu);
      if (opts_.waitWhenBehind)
        r.space.wait(lock, [&] { return abort_.load() || r.dead.load() || r.framesQueued < opts_.maxFrameQueue; });
      const bool full = r.framesQueued >= opts_.maxFrameQueue;
      // A keyframe may exceed the bound a little: dropping it would cost the rung a segment start.
      if (full && (!key || r.framesQueued >= 2 * opts_.maxFrameQueue + 2)) {
        r.forceKeyNext = r.forceKeyNext || key;
        const uint64_t n = r.counters.dropped.fetch_add(1) + 1;
        if (r.behindReport.Due())
          problem_(int(&rp - &rungs_[0]), "ERR_TRANSCODE_BEHIND",
                   "rung '" + r.opt.name + "' encoder behind real time: " + std::to_string(n) + " frames dropped so far");
        continue;
      }
      forcedKey = r.forceKeyNext;
      r.forceKeyNext = false;
      r.framesQueued++;  // the slot is taken now; the picture is scaled without holding the lock
    }
    Rung::Item it;
    it.frame.reset(Scale(r, frame));
    it.dts = dts;
    it.pts = frame->pts;
    it.key = key || forcedKey;
    {
      std::lock_guard<std::mutex> lock(r.mu);
      if (!it.frame) {
        r.framesQueued--;
        continue;
      }
      r.queue.push_back(std::move(it));
    }
    r.cv.notify_one();
  }
}

AVFrame* Transcoder::Scale(Rung& r, const AVFrame* in) {
  r.sws.reset(sws_getCachedContext(r.sws.release(), in->width, in->height, AVPixelFormat(in->format), r.opt.width,
                                   r.opt.height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
  FramePtr out;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.spare.empty()) {
      out = std::move(r.spare.back());
      r.spare.pop_back();
    }
  }
  if (!out) {
    out.reset(av_frame_alloc());
    if (out) {
      out->width = r.opt.width;
      out->height = r.opt.height;
      out->format = AV_PIX_FMT_YUV420P;
      if (av_frame_get_buffer(out.get(), 0) < 0) out.reset();
    }
  }
  if (!r.sws || !out) {
    StopRung(r, "ERR_TRANSCODE_SCALE", "cannot scale " + std::to_string(in->width) + "x" + std::to_string(in->height));
    return nullptr;
  }
  // Copies only if the encoder still holds a reference to this picture (it does not once the
  // frame's packets were received: x264 copies its input).
  int err = av_frame_make_writable(out.get());
  if (err >= 0) err = sws_scale_frame(r.sws.get(), out.get(), in);
  if (err < 0) {
    StopRung(r, "ERR_TRANSCODE_SCALE", "sws_scale_frame: " + AvErr(err));
    return nullptr;
  }
  return out.release();
}

void Transcoder::StopRung(Rung& r, const std::string& code, const std::string& message) {
  if (r.dead.exchange(true)) return;
  { std::lock_guard<std::mutex> lock(r.mu); }  // a waiter has checked `dead` and is waiting, not between
  r.space.notify_all();  // a decoder waiting for room in this rung goes on
  const int index = int(std::find_if(rungs_.begin(), rungs_.end(), [&](const auto& p) { return p.get() == &r; }) - rungs_.begin());
  problem_(index, code, "rung '" + r.opt.name + "' stopped: " + message);
}

void Transcoder::DeliverAudio(const Input& in) {
  for (auto& rp : rungs_) {
    Rung& r = *rp;
    if (r.dead || r.audioStream < 0) continue;
    Rung::Item it;
    it.audio.reset(av_packet_clone(in.pkt.get()));
    if (!it.audio) continue;
    it.dts = in.dts;
    it.pts = in.pts;
    {
      std::lock_guard<std::mutex> lock(r.mu);
      r.queue.push_back(std::move(it));
    }
    r.cv.notify_one();
  }
}

void Transcoder::EndRungs() {
  for (auto& r : rungs_) {
    {
      std::lock_guard<std::mutex> lock(r->mu);
      Rung::Item it;
      it.end = true;
      r->queue.push_back(std::move(it));
    }
    r->cv.notify_one();
  }
}

void Transcoder::RungLoop(Rung& r) {
  const int index = int(std::find_if(rungs_.begin(), rungs_.end(), [&](const auto& p) { return p.get() == &r; }) - rungs_.begin());
#ifdef __linux__
  pthread_setname_np(pthread_self(), ("sigma-rung-" + std::to_string(index)).c_str());
#endif
  auto fail = [&](const std::string& code, const std::string& message) { StopRung(r, code, message); };
  const AVRational srcTb{1, int(video_.timescale)};
  const AVRational audioTb{1, audio_ ? int(audio_->timescale) : 1000};
  auto writeAudioUpTo = [&](int64_t limitMs) {
    while (!r.pendingAudio.empty()) {
      Rung::Item& a = r.pendingAudio.front();
      if (av_rescale_q(a.dts, audioTb, kMs) > limitMs) break;
      if (!r.dead && r.muxer) {
        try {
          r.muxer->Push(r.audioStream, a.dts, a.pts, true, std::move(a.audio));
        } catch (const NativeError& e) {
          fail(e.code(), e.what());
        }
      }
      r.pendingAudio.pop_front();
    }
  };
  PacketPtr pkt(av_packet_alloc());
  auto receivePackets = [&]() {
    for (;;) {
      const int err = avcodec_receive_packet(r.enc.get(), pkt.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
      if (err < 0) return fail("ERR_TRANSCODE_ENCODE", "libx264: " + AvErr(err));
      int64_t dts = pkt->pts;
      if (!r.dtsOfSubmitted.empty()) {
        dts = std::min(r.dtsOfSubmitted.front(), pkt->pts);
        r.dtsOfSubmitted.pop_front();
      }
      std::vector<uint8_t> avcc = AnnexBToAvcc(pkt->data, size_t(pkt->size));
      const bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      const int64_t pts = pkt->pts;
      av_packet_unref(pkt.get());
      if (avcc.empty()) continue;
      // Audio from before this frame goes first, as it came in the source (interleaved by
      // time): the muxer cuts a part at a video frame, so audio that waited for the encoder and
      // followed the frame would land in the next part, and every part of the rung would hold
      // audio up to two AAC frames earlier than the source's part. Players switching renditions
      // expect the same media extent from each (hls.js stalled on a rung whose segment ended
      // 16 ms short of the source's).
      writeAudioUpTo(av_rescale_q(dts, srcTb, kMs) - 1);
      try {
        PacketPtr out = MakePacket();
        if (av_new_packet(out.get(), int(avcc.size())) < 0) throw std::bad_alloc();
        std::memcpy(out->data, avcc.data(), avcc.size());
        r.muxer->Push(r.videoStream, dts, pts, key, std::move(out));
        r.counters.encoded.fetch_add(1, std::memory_order_relaxed);
      } catch (const NativeError& e) {
        return fail(e.code(), e.what());
      } catch (const std::bad_alloc&) {
        return fail("ERR_NATIVE_NOMEM", "out of memory");
      }
      r.lastVideoMs = av_rescale_q(dts, srcTb, kMs);
      writeAudioUpTo(r.lastVideoMs);
    }
  };
  for (;;) {
    Rung::Item it;
    {
      std::unique_lock<std::mutex> lock(r.mu);
      r.cv.wait(lock, [&] { return abort_.load() || !r.queue.empty(); });
      if (abort_.load()) return;
      it = std::move(r.queue.front());
      r.queue.pop_front();
      if (it.frame) r.framesQueued--;
    }
    if (it.frame) r.space.notify_one();
    if (it.end) break;
    if (it.audio) {
      r.pendingAudio.push_back(std::move(it));
      if (r.pendingAudio.size() > kMaxPendingAudio) r.pendingAudio.pop_front();
      writeAudioUpTo(r.lastVideoMs);
      continue;
    }
    if (r.dead) continue;
    AVFrame* scaled = it.frame.get();
    scaled->pts = it.pts;
    scaled->pict_type = it.key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    r.dtsOfSubmitted.push_back(it.dts);
    const int err = avcodec_send_frame(r.enc.get(), scaled);
    if (err < 0) {
      fail("ERR_TRANSCODE_ENCODE", "avcodec_send_frame: " + AvErr(err));
      continue;
    }
    receivePackets();
    // The picture is free again (x264 copied it): back to the decoder's spares.
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.spare.size() < opts_.maxFrameQueue + 2) r.spare.push_back(std::move(it.frame));
  }
  // End of stream: flush the encoder, then the audio that waited for it, then the last part.
  if (!r.dead) {
    if (avcodec_send_frame(r.enc.get(), nullptr) >= 0) receivePackets();
  }
  writeAudioUpTo(INT64_MAX);
  if (!r.dead && r.muxer) {
    try {
      r.muxer->Finish();
    } catch (const NativeError& e) {
      fail(e.code(), e.what());
    }
  }
}

void Transcoder::Finish() {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ending_ = true;
  }
  cv_.notify_all();
  if (decodeThread_.joinable()) decodeThread_.join();
  else EndRungs();  // never started: let the rung threads (if any) finish
  for (auto& r : rungs_)
    if (r->thread.joinable()) r->thread.join();
  StopAll();
}

void Transcoder::Abort() {
  abort_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ending_ = true;
  }
  cv_.notify_all();
  for (auto& r : rungs_) {
    { std::lock_guard<std::mutex> lock(r->mu); }
    r->cv.notify_all();
    r->space.notify_all();
  }
  if (decodeThread_.joinable()) decodeThread_.join();
  for (auto& r : rungs_)
    if (r->thread.joinable()) r->thread.join();
  StopAll();
}

void Transcoder::StopAll() {
  // Everything libav owns is freed on the thread that ends the transcoder (the pipeline's worker).
  for (auto& r : rungs_) {
    r->muxer.reset();
    r->enc.reset();
    r->sws.reset();
    r->spare.clear();
    std::lock_guard<std::mutex> lock(r->mu);
    r->queue.clear();
    r->framesQueued = 0;
    r->pendingAudio.clear();
  }
  decoder_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  input_.clear();
}

}  // namespace sigma
