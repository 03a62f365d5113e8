#include "thumbnailer.h"

#include <cmath>
#include <cstring>

#ifdef __linux__
#include <pthread.h>
#endif

#include "napi_args.h"

namespace sigma {

Napi::Function Thumbnailer::Init(Napi::Env env) {
  return DefineClass(env, "Thumbnailer",
                     {InstanceMethod<&Thumbnailer::Write>("write"), InstanceMethod<&Thumbnailer::Close>("close"),
                      InstanceMethod<&Thumbnailer::Stats>("stats")});
}

// new Thumbnailer({ codecConfig, width, height, thumbnailWidth, tileWidth, columns, rows,
//                   quality?, maxQueue? }, onEvent(kind, payload))
Thumbnailer::Thumbnailer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Thumbnailer>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) ThrowConfig(env, "expected (options, onEvent)");
  Napi::Object o = info[0].As<Napi::Object>();
  ThumbnailOptions to;
  to.avcC = GetBytes(env, o, "codecConfig");
  to.srcWidth = GetIntIn(env, o, "width", 1, 65535, true, 0);
  to.srcHeight = GetIntIn(env, o, "height", 1, 65535, true, 0);
  to.thumbWidth = GetIntIn(env, o, "thumbnailWidth", 1, 65535, true, 0);
  to.tileWidth = GetIntIn(env, o, "tileWidth", 1, 65535, true, 0);
  to.columns = GetIntIn(env, o, "columns", 1, 1000, true, 0);
  to.rows = GetIntIn(env, o, "rows", 1, 1000, true, 0);
  to.qscale = GetIntIn(env, o, "quality", 1, 1000, false, 4);
  maxQueue_ = size_t(GetIntIn(env, o, "maxQueue", 1, 1000, false, 4));
  try {
    engine_ = std::make_unique<ThumbnailEngine>(to);
  } catch (const NativeError& e) {
    throw CodedError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw CodedError(env, "ERR_NATIVE_NOMEM", "out of memory creating the thumbnailer");
  }

  Napi::Object self = info.This().As<Napi::Object>();
  // The sizes JS needs before the first picture (sheet geometry for the WebVTT track).
  self.Set("thumbnailHeight", Napi::Number::New(env, engine_->thumbHeight()));
  self.Set("tileHeight", Napi::Number::New(env, engine_->tileHeight()));
  // Held by the JS object, not by a strong native reference: the callback's closure references
  // the facade, and a strong reference would keep the thumbnailer alive forever.
  self.Set("onEvent", info[1]);

  tsfn_ = Tsfn::New(env, "sigma_native.Thumbnailer", 0, 1, this);
  tsfn_.Unref(env);  // an open thumbnailer alone does not keep the process alive
  try {
    worker_ = std::thread(&Thumbnailer::Run, this);
  } catch (const std::system_error& e) {
    tsfn_.Abort();
    throw CodedError(env, "ERR_NATIVE_THREAD", std::string("cannot start worker thread: ") + e.what());
  }
  // Runs before the thread-safe function's own teardown (hooks run in reverse order).
  if (napi_add_env_cleanup_hook(env, &Thumbnailer::OnEnvCleanup, this) == napi_ok) cleanupHookRegistered_ = true;
}

Thumbnailer::~Thumbnailer() {
  StopAndJoin();
  if (cleanupHookRegistered_) {
    napi_remove_env_cleanup_hook(env_, &Thumbnailer::OnEnvCleanup, this);
    cleanupHookRegistered_ = false;
  }
}

void Thumbnailer::OnEnvCleanup(void* arg) {
  auto* self = static_cast<Thumbnailer*>(arg);
  self->cleanupHookRegistered_ = false;
  self->StopAndJoin();
}

void Thumbnailer::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    abort_ = true;
  }
  abortFlag_.store(true);
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// write(data, timeMs, what) -> boolean. Copies the bytes (the caller may reuse its Buffer) and
// queues them; never decodes on the event loop. False when closed, malformed at the door, or
// when the worker is still busy with maxQueue keyframes (dropped and counted: a thumbnail late
// by a GOP is worth less than a bounded memory).
Napi::Value Thumbnailer::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto drop = [&]() {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return Napi::Boolean::New(env, false);
  };
  if (closeCalled_) return Napi::Boolean::New(env, false);
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber()) return drop();
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return drop();
  Napi::Uint8Array data = ta.As<Napi::Uint8Array>();
  const double timeMs = info[1].As<Napi::Number>().DoubleValue();
  const int what = info[2].As<Napi::Number>().Int32Value() & (kWantThumbnail | kWantTile);
  const size_t size = data.ElementLength();
  if (!std::isfinite(timeMs) || what == 0 || size == 0 || size > (32u << 20)) return drop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= maxQueue_) return drop();
  }
  Job job{timeMs, what, {}};
  try {
    job.data.assign(data.Data(), data.Data() + size);
  } catch (const std::bad_alloc&) {
    return drop();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    queued_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.notify_one();
  return Napi::Boolean::New(env, true);
}

// close(): the worker finishes the queued keyframes, then posts 'done'.
Napi::Value Thumbnailer::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closeCalled_) return env.Undefined();
  closeCalled_ = true;
  Ref();            // keep the wrapper (and its onEvent) alive until 'done' is delivered
  tsfn_.Ref(env);   // and the event loop
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  return env.Undefined();
}

Napi::Value Thumbnailer::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("queued", Napi::Number::New(env, double(queued_.load())));
  o.Set("dropped", Napi::Number::New(env, double(dropped_.load())));
  o.Set("failed", Napi::Number::New(env, double(failed_.load())));
  o.Set("thumbnails", Napi::Number::New(env, double(thumbnails_.load())));
  o.Set("tiles", Napi::Number::New(env, double(tiles_.load())));
  return o;
}

void Thumbnailer::Post(std::unique_ptr<ThumbEvent> ev) {
  // Non-blocking with an unbounded TSFN queue: the worker never waits for the JS thread (which
  // joins it on close/teardown). At most two events per queued keyframe, so this stays small.
  if (tsfn_.NonBlockingCall(ev.get()) == napi_ok) ev.release();
}

void Thumbnailer::Process(Job& job) {
  try {
    const AVFrame* picture = engine_->Decode(job.data.data(), job.data.size());
    if (job.what & kWantThumbnail) {
      auto ev = std::make_unique<ThumbEvent>();
      ev->kind = ThumbEvent::kThumbnail;
      ev->timeMs = job.timeMs;
      ev->jpeg = engine_->Thumbnail(picture);
      thumbnails_.fetch_add(1, std::memory_order_relaxed);
      Post(std::move(ev));
    }
    if (job.what & kWantTile) {
      auto ev = std::make_unique<ThumbEvent>();
      ev->kind = ThumbEvent::kTile;
      ev->timeMs = job.timeMs;
      ev->tile = engine_->AddTile(picture);
      ev->jpeg = std::move(ev->tile.sheetJpeg);
      tiles_.fetch_add(1, std::memory_order_relaxed);
      Post(std::move(ev));
    }
  } catch (const std::exception& e) {
    // One bad keyframe costs its pictures, not the channel's thumbnails: report and go on.
    const auto* ne = dynamic_cast<const NativeError*>(&e);
    failed_.fetch_add(1, std::memory_order_relaxed);
    auto ev = std::make_unique<ThumbEvent>();
    ev->kind = ThumbEvent::kError;
    ev->timeMs = job.timeMs;
    ev->code = ne ? ne->code() : "ERR_THUMB_NOMEM";
    ev->message = e.what();
    Post(std::move(ev));
  }
}

void Thumbnailer::Run() {
#ifdef __linux__
  pthread_setname_np(pthread_self(), "sigma-thumbs");  // its CPU shows by name in top and /proc
#endif
  for (;;) {
    std::deque<Job> batch;
    bool closing;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return abort_ || closing_ || !queue_.empty(); });
      if (abort_) break;
      batch.swap(queue_);
      closing = closing_;
    }
    for (auto& job : batch) {
      if (abortFlag_.load(std::memory_order_relaxed)) break;
      Process(job);
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (abortFlag_.load()) break;
    if (closing) {
      engine_.reset();  // free libav state on the worker, off the event loop
      auto ev = std::make_unique<ThumbEvent>();
      ev->kind = ThumbEvent::kDone;
      Post(std::move(ev));
      tsfn_.Release();
      return;
    }
  }
  // Aborted (GC finalizer or environment teardown): nobody listens any more; queued events are
  // freed by the TSFN teardown (CallJs with env == nullptr).
  tsfn_.Abort();
}

namespace {

/// Hands a JPEG to JS without a copy: the Buffer's finalizer frees the packet.
Napi::Value JpegBuffer(Napi::Env env, Jpeg& jpeg) {
  AVPacket* pkt = jpeg.pkt.release();
  return Napi::Buffer<uint8_t>::New(env, pkt->data, size_t(pkt->size),
                                    [](Napi::Env, uint8_t*, AVPacket* p) { av_packet_free(&p); }, pkt);
}

}  // namespace

void Thumbnailer::CallJs(Napi::Env env, Napi::Function, Thumbnailer* self, ThumbEvent* raw) {
  std::unique_ptr<ThumbEvent> ev(raw);
  if (env == nullptr || ev == nullptr) return;  // teardown: just free the event
  if (ev->kind == ThumbEvent::kDone) {
    // The worker posted 'done' as its last act; joining returns at once.
    if (self->worker_.joinable()) self->worker_.join();
  }
  // Node may still deliver events while it frees the environment at exit (its last loop turn
  // runs before the cleanup hooks), when no JS can run and every N-API call fails: a C++
  // exception escaping this C callback would abort the process, so none may leave.
  try {
    Deliver(env, self, *ev);
  } catch (const Napi::Error&) {
  }
}

void Thumbnailer::Deliver(Napi::Env env, Thumbnailer* self, ThumbEvent& ev) {
  Napi::HandleScope scope(env);
  Napi::Object target = self->Value();
  if (ev.kind == ThumbEvent::kDone) self->Unref();  // close()'s Ref: the wrapper may go once JS drops it
  if (target.IsEmpty()) return;
  Napi::Value payload = env.Undefined();
  const char* kind = "done";
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  if (ev.kind == ThumbEvent::kThumbnail || ev.kind == ThumbEvent::kTile) {
    const bool tile = ev.kind == ThumbEvent::kTile;
    kind = tile ? "tile" : "thumbnail";
    Napi::Object o = Napi::Object::New(env);
    o.Set("timeMs", num(ev.timeMs));
    o.Set("width", num(tile ? ev.tile.width : ev.jpeg.width));
    o.Set("height", num(tile ? ev.tile.height : ev.jpeg.height));
    if (tile) {
      o.Set("sheet", num(double(ev.tile.sheet)));
      o.Set("index", num(ev.tile.index));
      o.Set("x", num(ev.tile.x));
      o.Set("y", num(ev.tile.y));
      o.Set("sheetWidth", num(ev.jpeg.width));
      o.Set("sheetHeight", num(ev.jpeg.height));
    }
    o.Set("data", JpegBuffer(env, ev.jpeg));
    payload = o;
  } else if (ev.kind == ThumbEvent::kError) {
    kind = "error";
    Napi::Error e = CodedError(env, ev.code, ev.message);
    e.Set("timeMs", num(ev.timeMs));
    payload = e.Value();
  }
  Napi::Value fn = target.Get("onEvent");
  if (!fn.IsFunction()) return;
  try {
    fn.As<Napi::Function>().Call(target, {Napi::String::New(env, kind), payload});
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();  // surfaces as an uncaught exception, like an emitter's
  }
}

}  // namespace sigma
