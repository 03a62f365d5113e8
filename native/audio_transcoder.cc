#include "audio_transcoder.h"

#include <cmath>

#ifdef __linux__
#include <pthread.h>
#endif

#include "napi_args.h"

namespace sigma {
namespace {

// No Opus packet is larger (RFC 6716 §3.2.5: at most 120 ms in 48 frames of ≤ 1275 bytes).
constexpr size_t kMaxPacketBytes = 64 * 1024;

}  // namespace

Napi::Function AudioTranscoder::Init(Napi::Env env) {
  return DefineClass(env, "AudioTranscoder",
                     {InstanceMethod<&AudioTranscoder::Push>("push"), InstanceMethod<&AudioTranscoder::Close>("close"),
                      InstanceMethod<&AudioTranscoder::Stats>("stats")});
}

// new AudioTranscoder({ inputChannels?, outputChannels?, bitrate?, maxQueue? }, onEvent(kind, payload))
AudioTranscoder::AudioTranscoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioTranscoder>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) ThrowConfig(env, "expected (options, onEvent)");
  Napi::Object o = info[0].As<Napi::Object>();
  OpusToAacOptions to;
  to.inputChannels = GetIntIn(env, o, "inputChannels", 1, 2, false, 2);
  to.outputChannels = GetIntIn(env, o, "outputChannels", 1, 2, false, 2);
  // 16 kb/s is the least AAC-LC at 48 kHz sounds like anything; 320 kb/s is past transparent for stereo.
  to.bitrate = GetIntIn(env, o, "bitrate", 16000, 320000, false, 128000);
  // 250 packets: 5 s of 20-ms Opus, a few hundred KB at most.
  const size_t maxQueue = size_t(GetIntIn(env, o, "maxQueue", 1, 10000, false, 250));
  try {
    engine_ = std::make_unique<OpusToAac>(to);
  } catch (const NativeError& e) {
    throw CodedError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw CodedError(env, "ERR_NATIVE_NOMEM", "out of memory creating the audio transcoder");
  }

  Napi::Object self = info.This().As<Napi::Object>();
  // Held by the JS object, not by a strong native reference (see Thumbnailer).
  self.Set("onEvent", info[1]);

  host_.Start(env, this, "sigma_native.AudioTranscoder", maxQueue, {
      [] {
#ifdef __linux__
        pthread_setname_np(pthread_self(), "sigma-opus2aac");  // its CPU shows by name in top and /proc
#endif
      },
      [this](Job& job) { Process(job); },
      [this] {
        Finish();
        engine_.reset();  // free libav state on the worker, off the event loop
        auto ev = std::make_unique<AudioEvent>();
        ev->kind = AudioEvent::kDone;
        return ev;
      },
      {},  // abort: no threads of its own post events
  });
}

// push(data, pts) -> boolean. Copies the bytes (the caller may reuse its Buffer) and queues
// them; never decodes on the event loop. False when closed, malformed at the door (not a
// non-empty Buffer of at most 64 KiB; pts not an integer in 0..2^53), or when the worker is
// still busy with maxQueue packets (dropped and counted: the gap becomes silence).
Napi::Value AudioTranscoder::Push(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto drop = [&]() {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return Napi::Boolean::New(env, false);
  };
  if (host_.closeCalled()) return drop();
  if (info.Length() < 2 || !info[1].IsNumber()) return drop();
  const std::optional<ByteView> data = GetBytesArg(info[0], kMaxPacketBytes);
  if (!data) return drop();
  const double pts = info[1].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(pts) || pts < 0 || pts > kMaxSafeInteger || pts != std::floor(pts)) return drop();
  if (host_.Full()) return drop();
  Job job{int64_t(pts), {}};
  if (!CopyBytes(*data, job.data) || !host_.Push(std::move(job))) return drop();
  return Napi::Boolean::New(env, true);
}

// close(): the worker transcodes the queued packets, flushes the encoder, then posts 'done'.
Napi::Value AudioTranscoder::Close(const Napi::CallbackInfo& info) {
  host_.Close(info.Env(), this);
  return info.Env().Undefined();
}

Napi::Value AudioTranscoder::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* key, uint64_t v) { o.Set(key, Napi::Number::New(env, double(v))); };
  set("queued", host_.queued());
  set("packetsIn", packetsIn_.load());
  set("framesOut", framesOut_.load());
  set("decodeErrors", decodeErrors_.load());
  set("dropped", dropped_.load());
  set("silenceSamples", silenceSamples_.load());
  return o;
}

void AudioTranscoder::Process(Job& job) {
  packetsIn_.fetch_add(1, std::memory_order_relaxed);
  frames_.clear();
  // The engine throws for one packet and stays usable: report, go on with the next. Frames the
  // packet completed before a failure (a gap filled, say) still go out.
  try {
    engine_->Push(job.data.data(), job.data.size(), job.pts, frames_);
  } catch (const std::exception& e) {
    Fail(&e, job.pts);
  } catch (...) {
    Fail(nullptr, job.pts);
  }
  silenceSamples_.store(engine_->silenceSamples(), std::memory_order_relaxed);
  Emit(frames_);
}

void AudioTranscoder::Finish() {
  frames_.clear();
  try {
    engine_->Finish(frames_);
  } catch (const std::exception& e) {
    Fail(&e, -1);
  } catch (...) {
    Fail(nullptr, -1);
  }
  Emit(frames_);
}

void AudioTranscoder::Emit(std::vector<AacFrame>& frames) {
  for (AacFrame& f : frames) {
    if (!configSent_) {
      configSent_ = true;
      auto ev = std::make_unique<AudioEvent>();
      ev->kind = AudioEvent::kConfig;
      ev->data = engine_->asc();
      ev->channels = engine_->channels();
      host_.Post(std::move(ev));
    }
    auto ev = std::make_unique<AudioEvent>();
    ev->kind = AudioEvent::kFrame;
    ev->pts = f.pts;
    ev->data = std::move(f.data);
    framesOut_.fetch_add(1, std::memory_order_relaxed);
    host_.Post(std::move(ev));
  }
  frames.clear();
}

void AudioTranscoder::Fail(const std::exception* e, int64_t pts) {
  const auto* ne = dynamic_cast<const NativeError*>(e);
  const std::string code = ne ? ne->code() : dynamic_cast<const std::bad_alloc*>(e) ? "ERR_AUDIO_NOMEM" : "ERR_AUDIO_ENCODE";
  const uint64_t n = code == "ERR_AUDIO_DECODE" ? decodeErrors_.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
  // A lossy or hostile sender can fail every packet: the JS side logs each report, so at most one per 10 s.
  if (!errorReport_.Due()) return;
  auto ev = std::make_unique<AudioEvent>();
  ev->kind = AudioEvent::kError;
  ev->pts = pts;
  ev->code = code;
  ev->message = std::string(e ? e->what() : "unknown failure") + (n ? " (" + std::to_string(n) + " so far)" : "");
  host_.Post(std::move(ev));
}

void AudioTranscoder::Deliver(Napi::Env env, AudioTranscoder* self, AudioEvent& ev) {
  Napi::Object target = self->Value();
  if (ev.kind == AudioEvent::kDone) self->host_.Done(self);  // joins; drops close()'s Ref
  Napi::Value payload = env.Undefined();
  const char* kind = "done";
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  // Copied into the Buffer: AAC frames are a few hundred bytes, a copy is cheaper than a finalizer.
  auto bytes = [&](const std::vector<uint8_t>& v) { return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size()); };
  if (ev.kind == AudioEvent::kConfig) {
    kind = "config";
    Napi::Object o = Napi::Object::New(env);
    o.Set("asc", bytes(ev.data));
    o.Set("sampleRate", num(OpusToAac::kSampleRate));
    o.Set("channels", num(ev.channels));
    payload = o;
  } else if (ev.kind == AudioEvent::kFrame) {
    kind = "frame";
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", bytes(ev.data));
    o.Set("pts", num(double(ev.pts)));
    payload = o;
  } else if (ev.kind == AudioEvent::kError) {
    kind = "error";
    Napi::Error e = CodedError(env, ev.code, ev.message);
    if (ev.pts >= 0) e.Set("pts", num(double(ev.pts)));
    payload = e.Value();
  }
  Host::Emit(env, target, kind, payload);
}

}  // namespace sigma
