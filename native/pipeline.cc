#include "pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "napi_args.h"

namespace sigma {
namespace {

TrackConfig ParseTrack(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) ThrowConfig(env, "tracks[] entries must be objects");
  Napi::Object o = v.As<Napi::Object>();
  TrackConfig t;
  std::string kind = o.Get("kind").IsString() ? o.Get("kind").As<Napi::String>().Utf8Value() : "";
  std::string codec = o.Get("codec").IsString() ? o.Get("codec").As<Napi::String>().Utf8Value() : "";
  if (kind == "video") {
    if (codec != "h264") ThrowConfig(env, "video codec must be 'h264'");
    t.kind = TrackKind::kVideo;
    t.width = int(GetInteger(env, o, "width", true, 0));
    t.height = int(GetInteger(env, o, "height", true, 0));
    t.frameRate = GetNumber(env, o, "frameRate", false, 0);
  } else if (kind == "audio") {
    if (codec != "aac") ThrowConfig(env, "audio codec must be 'aac'");
    t.kind = TrackKind::kAudio;
    t.sampleRate = int(GetInteger(env, o, "sampleRate", true, 0));
    t.channels = int(GetInteger(env, o, "channels", true, 0));
  } else {
    ThrowConfig(env, "track kind must be 'video' or 'audio'");
  }
  int64_t id = GetInteger(env, o, "id", true, 0);
  if (id < 0 || id > 65535) ThrowConfig(env, "track id out of range (0..65535)");
  t.id = int(id);
  t.timescale = GetInteger(env, o, "timescale", true, 0);
  t.codecConfig = GetBytes(env, o, "codecConfig");
  return t;
}

std::string GetString(Napi::Env env, const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) ThrowConfig(env, std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// ladder: { rungs: [{ name, width, height, videoBitrate, maxFrameRate?, profile? }], preset?, tune?,
//           encoderThreads?, decoderThreads?, maxInputQueue?, maxFrameQueue? }
TranscodeOptions ParseLadder(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) ThrowConfig(env, "ladder must be an object");
  Napi::Object o = v.As<Napi::Object>();
  TranscodeOptions t;
  Napi::Value rungs = o.Get("rungs");
  if (!rungs.IsArray()) ThrowConfig(env, "ladder.rungs must be an array");
  Napi::Array arr = rungs.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!arr.Get(i).IsObject()) ThrowConfig(env, "ladder.rungs[] entries must be objects");
    Napi::Object r = arr.Get(i).As<Napi::Object>();
    RungOptions ro;
    ro.name = GetString(env, r, "name", "");
    if (ro.name.empty()) ThrowConfig(env, "ladder rung name must not be empty");
    ro.width = int(GetInteger(env, r, "width", true, 0));
    ro.height = int(GetInteger(env, r, "height", true, 0));
    ro.videoBitrate = GetInteger(env, r, "videoBitrate", true, 0);
    ro.maxFrameRate = GetNumber(env, r, "maxFrameRate", false, 0);
    ro.profile = GetString(env, r, "profile", "high");
    t.rungs.push_back(ro);
  }
  t.preset = GetString(env, o, "preset", t.preset);
  t.tune = GetString(env, o, "tune", t.tune);
  t.encoderThreads = int(GetInteger(env, o, "encoderThreads", false, t.encoderThreads));
  t.decoderThreads = int(GetInteger(env, o, "decoderThreads", false, t.decoderThreads));
  t.maxInputQueue = size_t(std::max<int64_t>(8, GetInteger(env, o, "maxInputQueue", false, int64_t(t.maxInputQueue))));
  t.maxFrameQueue = size_t(std::max<int64_t>(1, GetInteger(env, o, "maxFrameQueue", false, int64_t(t.maxFrameQueue))));
  Napi::Value wait = o.Get("waitWhenBehind");
  t.waitWhenBehind = wait.IsBoolean() && wait.As<Napi::Boolean>().Value();
  return t;
}

}  // namespace

Napi::Function Pipeline::Init(Napi::Env env) {
  return DefineClass(env, "CmafPipeline",
                     {InstanceMethod<&Pipeline::Write>("write"), InstanceMethod<&Pipeline::Close>("close"),
                      InstanceMethod<&Pipeline::Stats>("stats")});
}

// new CmafPipeline(options, onEvent(kind, payload))
Pipeline::Pipeline(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pipeline>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    ThrowConfig(env, "expected (options, onEvent)");
  Napi::Object o = info[0].As<Napi::Object>();
  MuxerOptions mo;
  Napi::Value tracks = o.Get("tracks");
  if (!tracks.IsArray()) ThrowConfig(env, "tracks must be an array");
  Napi::Array arr = tracks.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) mo.tracks.push_back(ParseTrack(env, arr.Get(i)));
  mo.segmentTargetMs = GetInteger(env, o, "segmentTargetMs", true, 0);
  mo.partTargetMs = GetInteger(env, o, "partTargetMs", true, 0);
  mo.partMaxMs = GetInteger(env, o, "partMaxMs", false, 0);
  mo.partMinMs = GetInteger(env, o, "partMinMs", false, 0);
  mo.segmentMaxMs = GetInteger(env, o, "segmentMaxMs", false, 0);
  mo.firstMsn = GetInteger(env, o, "firstMsn", true, 0);
  const size_t maxQueue = size_t(GetIntIn(env, o, "maxQueue", 1, 1'000'000, false, 2000));
  int64_t failAfter = GetInteger(env, o, "testFailAfterWrites", false, 0);
  failAfterWrites_ = failAfter > 0 ? uint64_t(failAfter) : 0;

  try {
    muxer_ = std::make_unique<CmafMuxer>(mo, [this](std::unique_ptr<Chunk> c) {
      auto ev = std::make_unique<Event>();
      ev->kind = Event::kChunk;
      ev->chunk = std::move(c);
      host_.Post(std::move(ev));
    });
  } catch (const NativeError& e) {
    throw CodedError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw CodedError(env, "ERR_NATIVE_NOMEM", "out of memory creating the pipeline");
  }

  Napi::Value ladder = o.Get("ladder");
  if (!ladder.IsUndefined() && !ladder.IsNull()) {
    TranscodeOptions to = ParseLadder(env, ladder);
    for (const auto& r : to.rungs) rungNames_.push_back(r.name);
    auto post = [](Event::Kind kind, int rendition) {
      auto ev = std::make_unique<Event>();
      ev->kind = kind;
      ev->rendition = rendition;
      return ev;
    };
    try {
      transcoder_ = std::make_unique<Transcoder>(
          mo, to,
          [this, post](int rung, std::unique_ptr<Chunk> c) {
            auto ev = post(Event::kChunk, rung + 1);
            ev->chunk = std::move(c);
            host_.Post(std::move(ev));
          },
          [this, post](int rung, const TrackConfig& video) {
            auto ev = post(Event::kRendition, rung + 1);
            ev->track = video;
            host_.Post(std::move(ev));
          },
          [this, post](int rung, const std::string& code, const std::string& message) {
            auto ev = post(Event::kProblem, rung < 0 ? -1 : rung + 1);
            ev->code = code;
            ev->message = message;
            host_.Post(std::move(ev));
          });
    } catch (const NativeError& e) {
      throw CodedError(env, e.code(), e.what());
    }
  }

  for (const auto& t : mo.tracks) {
    if (size_t(t.id) >= streamOfTrackId_.size()) streamOfTrackId_.resize(size_t(t.id) + 1, -1);
    streamOfTrackId_[size_t(t.id)] = muxer_->StreamIndexOf(t.id);
  }

  // The JS object holds its own callback: a strong native reference to it would keep the
  // pipeline alive forever (the callback's closure references the facade).
  info.This().As<Napi::Object>().Set("onEvent", info[1]);

  host_.Start(env, this, "sigma_native.CmafPipeline", maxQueue, {
      [this] {
        try {
          muxer_->Start();
        } catch (const NativeError& e) {
          ReportError(e.code(), e.what());
        } catch (const std::exception& e) {
          ReportError("ERR_NATIVE_MUX", e.what());
        }
        StartLadder();
      },
      [this](Item& item) { Process(item); },
      [this] { return Finish(); },
      // Aborted (GC or teardown): the ladder's threads post through the TSFN, so they end first.
      [this] { ResetTranscoder(); },
  });
}

// write(trackId, dts, pts, keyframe, data) -> boolean
Napi::Value Pipeline::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_.closeCalled() || failed_.load(std::memory_order_relaxed)) return Napi::Boolean::New(env, false);
  auto drop = [&]() {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return Napi::Boolean::New(env, false);
  };
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) return drop();
  const double id = info[0].As<Napi::Number>().DoubleValue();
  const double dts = info[1].As<Napi::Number>().DoubleValue();
  const double pts = info[2].As<Napi::Number>().DoubleValue();
  const bool key = info[3].ToBoolean().Value();
  const std::optional<ByteView> data = GetBytesArg(info[4], 64u << 20);
  if (!data) return drop();
  if (!std::isfinite(dts) || !std::isfinite(pts) || dts != std::floor(dts) || pts != std::floor(pts) ||
      std::fabs(dts) > kMaxSafeInteger || std::fabs(pts) > kMaxSafeInteger || id != std::floor(id))
    return drop();
  const int stream = (id >= 0 && id < double(streamOfTrackId_.size())) ? streamOfTrackId_[size_t(id)] : -1;
  if (stream < 0) return drop();
  const size_t size = data->size;
  if (host_.Full()) return drop();
  // Copy now: the caller may reuse or drop its Buffer as soon as we return.
  PacketPtr pkt;
  try {
    pkt = MakePacket();
    if (av_new_packet(pkt.get(), int(size)) < 0) return drop();
  } catch (const std::bad_alloc&) {
    return drop();
  }
  std::memcpy(pkt->data, data->data, size);
  if (!host_.Push(Item{stream, int64_t(dts), int64_t(pts), key, std::move(pkt)})) return drop();
  return Napi::Boolean::New(env, true);
}

// close(): the worker drains the queue, emits the final part, then posts 'done'.
Napi::Value Pipeline::Close(const Napi::CallbackInfo& info) {
  host_.Close(info.Env(), this);
  return info.Env().Undefined();
}

Napi::Value Pipeline::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("queued", Napi::Number::New(env, double(host_.queued())));
  o.Set("dropped", Napi::Number::New(env, double(dropped_.load())));
  o.Set("written", Napi::Number::New(env, double(written_.load())));
  if (!rungNames_.empty()) {
    std::lock_guard<std::mutex> lock(statsMu_);
    SnapshotLadder();
    rungStats_.resize(rungNames_.size());
    Napi::Array rungs = Napi::Array::New(env, rungNames_.size());
    for (size_t i = 0; i < rungNames_.size(); i++) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("name", rungNames_[i]);
      r.Set("encoded", double(rungStats_[i].encoded));
      r.Set("dropped", double(rungStats_[i].dropped));
      r.Set("decimated", double(rungStats_[i].decimated));
      rungs.Set(uint32_t(i), r);
    }
    o.Set("rungs", rungs);
    o.Set("decoderDropped", double(ladderDecoderDropped_));
    o.Set("decodeErrors", double(ladderDecodeErrors_));
  }
  return o;
}

void Pipeline::StartLadder() {
  if (!transcoder_) return;
  try {
    transcoder_->Start();
  } catch (const std::exception& e) {
    // The ladder is lost; the source rendition goes on.
    const auto* ne = dynamic_cast<const NativeError*>(&e);
    auto ev = std::make_unique<Event>();
    ev->kind = Event::kProblem;
    ev->rendition = -1;
    ev->code = ne ? ne->code() : "ERR_TRANSCODE";
    ev->message = e.what();
    host_.Post(std::move(ev));
    ResetTranscoder();
  }
}

void Pipeline::SnapshotLadder() {
  if (!transcoder_) return;
  rungStats_.resize(transcoder_->rungCount());
  for (size_t i = 0; i < rungStats_.size(); i++) {
    const RungCounters& c = transcoder_->counters(int(i));
    rungStats_[i] = RungStat{c.encoded.load(), c.dropped.load(), c.decimated.load()};
  }
  ladderDecoderDropped_ = transcoder_->decoderDropped();
  ladderDecodeErrors_ = transcoder_->decodeErrors();
}

void Pipeline::ResetTranscoder() {
  if (!transcoder_) return;
  transcoder_->Abort();  // no-op after Finish; joins the ladder's threads otherwise
  std::lock_guard<std::mutex> lock(statsMu_);
  SnapshotLadder();
  transcoder_.reset();
}

void Pipeline::ReportError(const std::string& code, const std::string& message) {
  if (failed_.exchange(true)) return;  // once
  auto ev = std::make_unique<Event>();
  ev->kind = Event::kError;
  ev->code = code;
  ev->message = message;
  host_.Post(std::move(ev));
}

void Pipeline::Process(Item& it) {
  if (failed_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  try {
    // The ladder decodes the same bytes: a reference, not a copy.
    PacketPtr forLadder(transcoder_ ? av_packet_clone(it.pkt.get()) : nullptr);
    PushResult r = muxer_->Push(it.stream, it.dts, it.pts, it.keyframe, std::move(it.pkt));
    if (r != PushResult::kAccepted) dropped_.fetch_add(1, std::memory_order_relaxed);
    else if (forLadder) transcoder_->Push(muxer_->IsVideo(it.stream), it.dts, it.pts, it.keyframe, std::move(forLadder));
    written_.store(muxer_->written(), std::memory_order_relaxed);
    if (failAfterWrites_ && muxer_->written() >= failAfterWrites_)
      throw NativeError("ERR_NATIVE_MUX", "injected muxing failure (testFailAfterWrites)");
  } catch (const NativeError& e) {
    ReportError(e.code(), e.what());
  } catch (const std::exception& e) {
    ReportError("ERR_NATIVE_MUX", e.what());
  }
}

std::unique_ptr<Event> Pipeline::Finish() {
  if (!failed_.load()) {
    try {
      muxer_->Finish();
      written_.store(muxer_->written(), std::memory_order_relaxed);
    } catch (const NativeError& e) {
      ReportError(e.code(), e.what());
    } catch (const std::exception& e) {
      ReportError("ERR_NATIVE_MUX", e.what());
    }
  }
  // The ladder's last parts go out before 'done'; its threads end before the TSFN does.
  if (transcoder_) transcoder_->Finish();
  ResetTranscoder();
  muxer_.reset();  // free libav state on the worker, off the event loop
  auto ev = std::make_unique<Event>();
  ev->kind = Event::kDone;
  return ev;
}

void Pipeline::Deliver(Napi::Env env, Pipeline* self, Event& ev) {
  Napi::Object target = self->Value();
  Napi::Value payload = env.Undefined();
  const char* kind = "chunk";
  if (ev.kind == Event::kChunk) {
    Chunk& c = *ev.chunk;
    Napi::Object o = Napi::Object::New(env);
    Napi::Buffer<uint8_t> buf;
    if (c.data.empty()) {
      buf = Napi::Buffer<uint8_t>::New(env, 0);
    } else {
      // Hand the bytes to JS without a copy; the finalizer frees them when the Buffer dies.
      // Owned here until the Buffer exists (New may throw at teardown), then by its finalizer.
      auto vec = std::make_unique<std::vector<uint8_t>>(std::move(c.data));
      buf = Napi::Buffer<uint8_t>::New(
          env, vec->data(), vec->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, vec.get());
      vec.release();
    }
    o.Set("rendition", Napi::Number::New(env, ev.rendition));
    if (c.init) {
      o.Set("kind", "init");
      o.Set("data", buf);
    } else {
      o.Set("kind", "part");
      o.Set("msn", Napi::Number::New(env, double(c.msn)));
      o.Set("partIndex", Napi::Number::New(env, c.partIndex));
      o.Set("independent", Napi::Boolean::New(env, c.independent));
      o.Set("segmentStart", Napi::Boolean::New(env, c.segmentStart));
      o.Set("segmentEnd", Napi::Boolean::New(env, c.segmentEnd));
      o.Set("startMs", Napi::Number::New(env, double(c.startMs)));
      o.Set("durationMs", Napi::Number::New(env, double(c.durationMs)));
      o.Set("data", buf);
    }
    payload = o;
  } else if (ev.kind == Event::kError) {
    kind = "error";
    payload = CodedError(env, ev.code, ev.message).Value();
  } else if (ev.kind == Event::kRendition) {
    kind = "rendition";
    const TrackConfig& t = ev.track;
    Napi::Object o = Napi::Object::New(env);
    o.Set("rendition", Napi::Number::New(env, ev.rendition));
    o.Set("name", self->rungNames_.at(size_t(ev.rendition - 1)));
    o.Set("codecConfig", Napi::Buffer<uint8_t>::Copy(env, t.codecConfig.data(), t.codecConfig.size()));
    o.Set("width", Napi::Number::New(env, t.width));
    o.Set("height", Napi::Number::New(env, t.height));
    o.Set("frameRate", Napi::Number::New(env, t.frameRate));
    payload = o;
  } else if (ev.kind == Event::kProblem) {
    kind = "problem";
    Napi::Object o = CodedError(env, ev.code, ev.message).Value();
    o.Set("rendition", Napi::Number::New(env, ev.rendition));
    payload = o;
  } else {
    kind = "done";
    self->host_.Done(self);
  }
  Host::Emit(env, target, kind, payload);
}

}  // namespace sigma
