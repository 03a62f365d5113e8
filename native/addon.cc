// sigma_native: module entry. Exports the per-channel CMAF pipeline, thumbnailer and Opus→AAC
// audio transcoder classes, the SRT listener, trimMemory() and encodeSlate().
#include <napi.h>

extern "C" {
#include <libavutil/log.h>
}

#include "audio_transcoder.h"
#include "memory_trim.h"
#include "pipeline.h"
#include "slate_encoder.h"
#include "srt_server.h"
#include "thumbnailer.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // libavformat warns per packet in some edge cases; errors reach JS through onError instead.
  av_log_set_level(AV_LOG_ERROR);
  exports.Set("CmafPipeline", sigma::Pipeline::Init(env));
  exports.Set("Thumbnailer", sigma::Thumbnailer::Init(env));
  exports.Set("SrtServer", sigma::SrtServer::Init(env));
  exports.Set("AudioTranscoder", sigma::AudioTranscoder::Init(env));
  exports.Set("trimMemory", Napi::Function::New(env, sigma::TrimMemory, "trimMemory"));
  exports.Set("encodeSlate", Napi::Function::New(env, sigma::EncodeSlateJs, "encodeSlate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(sigma_native, Init)
