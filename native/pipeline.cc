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
Pipeline::Pipeline(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pipeline>(info), env_(info.Env()) {
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
  int64_t maxQueue = GetInteger(env, o, "maxQueue", false, 2000);
  if (maxQueue < 1 || maxQueue > 1'000'000) ThrowConfig(env, "maxQueue out of range (1..1000000)");
  maxQueue_ = size_t(maxQueue);
  int64_t failAfter = GetInteger(env, o, "testFailAfterWrites", false, 0);
  failAfterWrites_ = failAfter > 0 ? uint64_t(failAfter) : 0;

  try {
    muxer_ = std::make_unique<CmafMuxer>(mo, [this](std::unique_ptr<Chunk> c) {
      auto ev = std::make_unique<Event>();
      ev->kind = Event::kChunk;
      ev->chunk = std::move(c);
      Post(std::move(ev));
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

  tsfn_ = Tsfn::New(env, "sigma_native.CmafPipeline", 0, 1, this);
  // An open pipeline alone does not keep the process alive; close() holds it until done.
  tsfn_.Unref(env);
  try {
    worker_ = std::thread(&Pipeline::Run, this);
  } catch (const std::system_error& e) {
    tsfn_.Abort();
    throw CodedError(env, "ERR_NATIVE_THREAD", std::string("cannot start worker thread: ") + e.what());
  }
  // Runs before the thread-safe function's own teardown (hooks run in reverse order).
  if (napi_add_env_cleanup_hook(env, &Pipeline::OnEnvCleanup, this) == napi_ok) cleanupHookRegistered_ = true;
}

Pipeline::~Pipeline() {
  StopAndJoin();
  if (cleanupHookRegistered_) {
    napi_remove_env_cleanup_hook(env_, &Pipeline::OnEnvCleanup, this);
    cleanupHookRegistered_ = false;
  }
}

void Pipeline::OnEnvCleanup(void* arg) {
  auto* self = static_cast<Pipeline*>(arg);
  self->cleanupHookRegistered_ = false;
  self->StopAndJoin();
}

void Pipeline::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    abort_ = true;
  }
  abortFlag_.store(true);
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// write(trackId, dts, pts, keyframe, data) -> boolean
Napi::Value Pipeline::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closeCalled_ || failed_.load(std::memory_order_relaxed)) return Napi::Boolean::New(env, false);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= maxQueue_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return Napi::Boolean::New(env, false);
    }
  }
  // Copy now: the caller may reuse or drop its Buffer as soon as we return.
  PacketPtr pkt;
  try {
    pkt = MakePacket();
    if (av_new_packet(pkt.get(), int(size)) < 0) return drop();
  } catch (const std::bad_alloc&) {
    return drop();
  }
  std::memcpy(pkt->data, data.Data(), size);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{stream, int64_t(dts), int64_t(pts), key, std::move(pkt)});
    queued_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.notify_one();
  return Napi::Boolean::New(env, true);
}

// close(): the worker drains the queue, emits the final part, then posts 'done'.
Napi::Value Pipeline::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closeCalled_) return env.Undefined();
  closeCalled_ = true;
  Ref();             // keep the wrapper (and its onEvent) alive until 'done' is delivered
  tsfn_.Ref(env);    // and the event loop
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  return env.Undefined();
}

Napi::Value Pipeline::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("queued", Napi::Number::New(env, double(queued_.load())));
  o.Set("dropped", Napi::Number::New(env, double(dropped_.load())));
  o.Set("written", Napi::Number::New(env, double(written_.load())));
  return o;
}

void Pipeline::Post(std::unique_ptr<Event> ev) {
  // Non-blocking with an unbounded TSFN queue: the worker must never wait on the JS thread
  // (close/teardown joins the worker from the JS thread).
  if (tsfn_.NonBlockingCall(ev.get()) == napi_ok) ev.release();
}

void Pipeline::ReportError(const std::string& code, const std::string& message) {
  if (failed_.exchange(true)) return;  // once
  auto ev = std::make_unique<Event>();
  ev->kind = Event::kError;
  ev->code = code;
  ev->message = message;
  Post(std::move(ev));
}

void Pipeline::Run() {
  try {
    muxer_->Start();
  } catch (const NativeError& e) {
    ReportError(e.code(), e.what());
  } catch (const std::exception& e) {
    ReportError("ERR_NATIVE_MUX", e.what());
  }
  for (;;) {
    std::deque<Item> batch;
    bool closing;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return abort_ || closing_ || !queue_.empty(); });
      if (abort_) break;
      batch.swap(queue_);
      closing = closing_;
    }
    for (auto& it : batch) {
      if (abortFlag_.load(std::memory_order_relaxed)) break;
      queued_.fetch_sub(1, std::memory_order_relaxed);
      if (failed_.load(std::memory_order_relaxed)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
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
    if (abortFlag_.load()) break;
    if (closing) {
      // close() refuses further writes before setting closing_, so the batch held everything.
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
      Post(std::move(ev));
      tsfn_.Release();
      return;
    }
  }
  // Aborted (GC finalizer or environment teardown): nobody is listening any more; queued
  // events are freed by the TSFN teardown (CallJs with env == nullptr).
  tsfn_.Abort();
}

void Pipeline::CallJs(Napi::Env env, Napi::Function, Pipeline* self, Event* raw) {
  std::unique_ptr<Event> ev(raw);
  if (env == nullptr || ev == nullptr) return;  // teardown: just free the event
  Napi::HandleScope scope(env);
  Napi::Object target = self->Value();
  Napi::Value payload = env.Undefined();
  const char* kind = "chunk";
  if (ev->kind == Event::kChunk) {
    Chunk& c = *ev->chunk;
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
  } else if (ev->kind == Event::kError) {
    kind = "error";
    payload = CodedError(env, ev->code, ev->message).Value();
  } else {
    kind = "done";
    // The worker posted 'done' as its last act; joining returns at once.
    if (self->worker_.joinable()) self->worker_.join();
    self->Unref();
  }
  if (target.IsEmpty()) return;
  try {
    Napi::Value fn = target.Get("onEvent");
    if (fn.IsFunction()) fn.As<Napi::Function>().Call(target, {Napi::String::New(env, kind), payload});
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();  // surfaces as an uncaught exception, like an emitter's
  }
}

}  // namespace sigma
