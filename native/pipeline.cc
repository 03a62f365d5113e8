#include "pipeline.h"

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
      },
      [this](Item& item) { Process(item); },
      [this] { return Finish(); },
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
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[4].IsTypedArray())
    return drop();
  const double id = info[0].As<Napi::Number>().DoubleValue();
  const double dts = info[1].As<Napi::Number>().DoubleValue();
  const double pts = info[2].As<Napi::Number>().DoubleValue();
  const bool key = info[3].ToBoolean().Value();
  Napi::TypedArray ta = info[4].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return drop();
  Napi::Uint8Array data = ta.As<Napi::Uint8Array>();
  if (!std::isfinite(dts) || !std::isfinite(pts) || dts != std::floor(dts) || pts != std::floor(pts) ||
      std::fabs(dts) > kMaxSafeInteger || std::fabs(pts) > kMaxSafeInteger || id != std::floor(id))
    return drop();
  const int stream = (id >= 0 && id < double(streamOfTrackId_.size())) ? streamOfTrackId_[size_t(id)] : -1;
  const size_t size = data.ElementLength();
  if (stream < 0 || size == 0 || size > (64u << 20)) return drop();
  if (host_.Full()) return drop();
  // Copy now: the caller may reuse or drop its Buffer as soon as we return.
  PacketPtr pkt;
  try {
    pkt = MakePacket();
    if (av_new_packet(pkt.get(), int(size)) < 0) return drop();
  } catch (const std::bad_alloc&) {
    return drop();
  }
  std::memcpy(pkt->data, data.Data(), size);
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
  return o;
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
    PushResult r = muxer_->Push(it.stream, it.dts, it.pts, it.keyframe, std::move(it.pkt));
    if (r != PushResult::kAccepted) dropped_.fetch_add(1, std::memory_order_relaxed);
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
      auto* vec = new std::vector<uint8_t>(std::move(c.data));
      buf = Napi::Buffer<uint8_t>::New(
          env, vec->data(), vec->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, vec);
    }
    if (c.init) {
      o.Set("kind", "init");
      o.Set("data", buf);
    } else {
      o.Set("kind", "part");
      o.Set("msn", Napi::Number::New(env, double(c.msn)));
      o.Set("partIndex", Napi::Number::New(env, c.partIndex));
      o.Set("independent", Napi::Boolean::New(env, c.independent));
      o.Set("segmentStart", Napi::Boolean::New(env, c.segmentStart));
      o.Set("startMs", Napi::Number::New(env, double(c.startMs)));
      o.Set("durationMs", Napi::Number::New(env, double(c.durationMs)));
      o.Set("data", buf);
    }
    payload = o;
  } else if (ev.kind == Event::kError) {
    kind = "error";
    payload = CodedError(env, ev.code, ev.message).Value();
  } else {
    kind = "done";
    self->host_.Done(self);
  }
  Host::Emit(env, target, kind, payload);
}

}  // namespace sigma
