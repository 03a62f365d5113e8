// encodeSlate(request) -> Promise<clip>: the slate loop (slate_engine.h) encoded as an
// AsyncWorker on the libuv thread pool, never on the event loop.
#pragma once
#include <napi.h>

namespace sigma {

/// encodeSlate({ video?: { width, height, frameRate, picture? | imagePath?, gopFrames,
/// bitrateKbps? }, audio?: { sampleRate, channels }, durationMs }) -> Promise<{ tracks, units,
/// durationMs }>. Every failure is a rejection with Error.code ERR_SLATE_CONFIG,
/// ERR_SLATE_IMAGE or ERR_SLATE_ENCODE; it never throws.
Napi::Value EncodeSlateJs(const Napi::CallbackInfo& info);

}  // namespace sigma
