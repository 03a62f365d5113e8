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
Thumbnailer::Thumbnailer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Thumbnailer>(info) {
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
  const size_t maxQueue = size_t(GetIntIn(env, o, "maxQueue", 1, 1000, false, 4));
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

  host_.Start(env, this, "sigma_native.Thumbnailer", maxQueue, {
      [] {
#ifdef __linux__
        pthread_setname_np(pthread_self(), "sigma-thumbs");  // its CPU shows by name in top and /proc
#endif
      },
      [this](Job& job) { Process(job); },
      [this] {
        engine_.reset();  // free libav state on the worker, off the event loop
        auto ev = std::make_unique<ThumbEvent>();
        ev->kind = ThumbEvent::kDone;
        return ev;
      },
      {},  // abort: no threads of its own post events
  });
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
  if (host_.closeCalled()) return Napi::Boolean::New(env, false);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) return drop();
  const std::optional<ByteView> data = GetBytesArg(info[0], 32u << 20);
  if (!data) return drop();
  const double timeMs = info[1].As<Napi::Number>().DoubleValue();
  const int what = info[2].As<Napi::Number>().Int32Value() & (kWantThumbnail | kWantTile);
  if (!std::isfinite(timeMs) || what == 0) return drop();
  if (host_.Full()) return drop();
  Job job{timeMs, what, {}};
  if (!CopyBytes(*data, job.data) || !host_.Push(std::move(job))) return drop();
  return Napi::Boolean::New(env, true);
}

// close(): the worker finishes the queued keyframes, then posts 'done'.
Napi::Value Thumbnailer::Close(const Napi::CallbackInfo& info) {
  host_.Close(info.Env(), this);
  return info.Env().Undefined();
}

Napi::Value Thumbnailer::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("queued", Napi::Number::New(env, double(host_.queued())));
  o.Set("dropped", Napi::Number::New(env, double(dropped_.load())));
  o.Set("failed", Napi::Number::New(env, double(failed_.load())));
  o.Set("thumbnails", Napi::Number::New(env, double(thumbnails_.load())));
  o.Set("tiles", Napi::Number::New(env, double(tiles_.load())));
  return o;
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
      host_.Post(std::move(ev));
    }
    if (job.what & kWantTile) {
      auto ev = std::make_unique<ThumbEvent>();
      ev->kind = ThumbEvent::kTile;
      ev->timeMs = job.timeMs;
      ev->tile = engine_->AddTile(picture);
      ev->jpeg = std::move(ev->tile.sheetJpeg);
      tiles_.fetch_add(1, std::memory_order_relaxed);
      host_.Post(std::move(ev));
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
    host_.Post(std::move(ev));
  }
}

namespace {

/// Hands a JPEG to JS without a copy: the Buffer's finalizer frees the packet.
Napi::Value JpegBuffer(Napi::Env env, Jpeg& jpeg) {
  AVPacket* pkt = jpeg.pkt.get();
  Napi::Value buf = Napi::Buffer<uint8_t>::New(env, pkt->data, size_t(pkt->size),
                                               [](Napi::Env, uint8_t*, AVPacket* p) { av_packet_free(&p); }, pkt);
  jpeg.pkt.release();  // the Buffer owns it now (not before: New may throw at teardown)
  return buf;
}

}  // namespace

void Thumbnailer::Deliver(Napi::Env env, Thumbnailer* self, ThumbEvent& ev) {
  Napi::Object target = self->Value();
  if (ev.kind == ThumbEvent::kDone) self->host_.Done(self);  // joins; drops close()'s Ref
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
    // Each Buffer owns its packet once made; one not made yet is freed with the event.
    if (tile) o.Set("tileData", JpegBuffer(env, ev.tile.tileJpeg));
    payload = o;
  } else if (ev.kind == ThumbEvent::kError) {
    kind = "error";
    Napi::Error e = CodedError(env, ev.code, ev.message);
    e.Set("timeMs", num(ev.timeMs));
    payload = e.Value();
  }
  Host::Emit(env, target, kind, payload);
}

}  // namespace sigma
