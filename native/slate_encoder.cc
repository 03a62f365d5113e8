#include "slate_encoder.h"

#include <string>
#include <utility>

#include "napi_args.h"
#include "slate_engine.h"

namespace sigma {
namespace {

constexpr const char* kConfig = "ERR_SLATE_CONFIG";

/// An integer option; its range is checked by CheckSlateRequest (with the slate's own words).
int GetInt(Napi::Env env, const Napi::Object& o, const char* key, bool required, int fallback) {
  return GetIntIn(env, o, key, -(1 << 30), 1 << 30, required, fallback);
}

/// Reads the request on the JS thread: numbers checked by napi_args.h (their errors are re-coded
/// as ERR_SLATE_CONFIG by the caller), the picture's bytes copied (the caller may reuse its Buffer).
SlateRequest ReadRequest(Napi::Env env, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) ThrowConfig(env, "expected a slate request object");
  Napi::Object o = info[0].As<Napi::Object>();
  SlateRequest req;
  req.durationMs = GetInteger(env, o, "durationMs", true, 0);
  Napi::Value video = o.Get("video");
  if (!video.IsUndefined()) {
    if (!video.IsObject()) ThrowConfig(env, "video must be an object");
    Napi::Object v = video.As<Napi::Object>();
    SlateVideoRequest vr;
    vr.width = GetInt(env, v, "width", true, 0);
    vr.height = GetInt(env, v, "height", true, 0);
    vr.frameRate = GetNumber(env, v, "frameRate", true, 0);
    vr.gopFrames = GetInt(env, v, "gopFrames", true, 0);
    vr.bitrateKbps = GetInt(env, v, "bitrateKbps", false, 300);
    if (!v.Get("picture").IsUndefined()) {
      vr.i420 = GetBytes(env, v, "picture");
      if (vr.i420.empty()) ThrowConfig(env, "picture is empty");
    }
    Napi::Value path = v.Get("imagePath");
    if (!path.IsUndefined()) {
      if (!path.IsString()) ThrowConfig(env, "imagePath must be a string");
      vr.imagePath = path.As<Napi::String>().Utf8Value();
      if (vr.imagePath.empty()) ThrowConfig(env, "imagePath is empty");
    }
    req.video = std::move(vr);
  }
  Napi::Value audio = o.Get("audio");
  if (!audio.IsUndefined()) {
    if (!audio.IsObject()) ThrowConfig(env, "audio must be an object");
    Napi::Object a = audio.As<Napi::Object>();
    SlateAudioRequest ar;
    ar.sampleRate = GetInt(env, a, "sampleRate", true, 0);
    ar.channels = GetInt(env, a, "channels", true, 0);
    req.audio = ar;
  }
  return req;
}

Napi::Object TrackObject(Napi::Env env, const TrackConfig& t) {
  Napi::Object o = Napi::Object::New(env);
  const bool video = t.kind == TrackKind::kVideo;
  o.Set("kind", video ? "video" : "audio");
  o.Set("id", Napi::Number::New(env, t.id));
  o.Set("codec", video ? "h264" : "aac");
  o.Set("timescale", Napi::Number::New(env, double(t.timescale)));
  o.Set("codecConfig", Napi::Buffer<uint8_t>::Copy(env, t.codecConfig.data(), t.codecConfig.size()));
  if (video) {
    o.Set("width", Napi::Number::New(env, t.width));
    o.Set("height", Napi::Number::New(env, t.height));
    o.Set("frameRate", Napi::Number::New(env, t.frameRate));
  } else {
    o.Set("sampleRate", Napi::Number::New(env, t.sampleRate));
    o.Set("channels", Napi::Number::New(env, t.channels));
  }
  return o;
}

class SlateWorker : public Napi::AsyncWorker {
 public:
  SlateWorker(Napi::Env env, SlateRequest req, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "sigma_native.encodeSlate"), deferred_(std::move(deferred)), req_(std::move(req)) {}

  // On a libuv pool thread: everything libav does happens here, and is freed here.
  void Execute() override {
    try {
      clip_ = EncodeSlate(req_);
    } catch (const NativeError& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::bad_alloc&) {
      code_ = "ERR_SLATE_ENCODE";
      message_ = "out of memory encoding the slate";
    } catch (const std::exception& e) {
      code_ = "ERR_SLATE_ENCODE";
      message_ = e.what();
    }
    req_ = SlateRequest{};  // the picture's bytes are not needed any more
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!code_.empty()) {
      deferred_.Reject(CodedError(env, code_, message_).Value());
      return;
    }
    try {
      deferred_.Resolve(ClipObject(env));
    } catch (const Napi::Error& e) {  // N-API failing (teardown): the promise rejects instead
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Object ClipObject(Napi::Env env) {
    Napi::Object clip = Napi::Object::New(env);
    Napi::Array tracks = Napi::Array::New(env);
    uint32_t n = 0;
    if (clip_.video) tracks.Set(n++, TrackObject(env, *clip_.video));
    if (clip_.audio) tracks.Set(n++, TrackObject(env, *clip_.audio));
    clip.Set("tracks", tracks);
    Napi::Array units = Napi::Array::New(env, clip_.units.size());
    for (size_t i = 0; i < clip_.units.size(); i++) {
      const SlateUnit& u = clip_.units[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("trackId", Napi::Number::New(env, u.trackId));
      o.Set("dts", Napi::Number::New(env, double(u.timeMs)));
      o.Set("pts", Napi::Number::New(env, double(u.timeMs)));
      o.Set("keyframe", Napi::Boolean::New(env, u.keyframe));
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, u.data.data(), u.data.size()));
      units.Set(uint32_t(i), o);
    }
    clip.Set("units", units);
    clip.Set("durationMs", Napi::Number::New(env, double(clip_.durationMs)));
    return clip;
  }

  Napi::Promise::Deferred deferred_;
  SlateRequest req_;
  SlateClip clip_;
  std::string code_, message_;
};

}  // namespace

Napi::Value EncodeSlateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  Napi::Promise promise = deferred.Promise();
  SlateRequest req;
  try {
    req = ReadRequest(env, info);
    CheckSlateRequest(req);  // cheap: a bad request rejects without a trip to the pool
  } catch (const NativeError& e) {
    deferred.Reject(CodedError(env, e.code(), e.what()).Value());
    return promise;
  } catch (const Napi::Error& e) {  // from napi_args.h (ERR_NATIVE_CONFIG) or a throwing getter
    deferred.Reject(CodedError(env, kConfig, e.Message()).Value());
    return promise;
  } catch (const std::bad_alloc&) {
    deferred.Reject(CodedError(env, kConfig, "out of memory reading the slate request").Value());
    return promise;
  }
  // Owned by node-addon-api once queued: it deletes itself after OnOK/OnError.
  auto* worker = new SlateWorker(env, std::move(req), deferred);
  worker->Queue();
  return promise;
}

}  // namespace sigma
