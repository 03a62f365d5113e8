// N-API face of one WebRTC (WHIP) publisher's audio: Opus packets into a small bounded queue,
// a native worker thread that owns an OpusToAac engine, AAC-LC frames back to JS through a
// thread-safe function. Lifecycle as Thumbnailer's (worker_host.h): close() drains and joins,
// GC without close aborts and joins, an env cleanup hook does the same at teardown.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opus_to_aac.h"
#include "rate_limit.h"
#include "worker_host.h"

namespace sigma {

/// What the worker hands to the JS thread.
struct AudioEvent {
  enum Kind { kConfig, kFrame, kError, kDone } kind = kFrame;
  int64_t pts = 0;            // kFrame: the frame's; kError: the packet's
  std::vector<uint8_t> data;  // kConfig: the AudioSpecificConfig; kFrame: one raw AAC frame
  int channels = 0;           // kConfig
  std::string code, message;  // kError
};

class AudioTranscoder : public Napi::ObjectWrap<AudioTranscoder> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioTranscoder(const Napi::CallbackInfo& info);

 private:
  struct Job {
    int64_t pts;
    std::vector<uint8_t> data;
  };

  using Host = WorkerHost<AudioTranscoder, Job, AudioEvent>;
  friend Host;
  static void Deliver(Napi::Env env, AudioTranscoder* self, AudioEvent& ev);  // on the JS thread, through the host

  Napi::Value Push(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  // On the worker.
  void Process(Job& job);
  void Finish();
  void Emit(std::vector<AacFrame>& frames);                            // 'config' before the first, then each 'frame'
  void Fail(const std::exception* e, int64_t pts);                     // count, and an 'error' event when due

  std::unique_ptr<OpusToAac> engine_;  // touched only by the worker once it runs
  std::vector<AacFrame> frames_;       // worker: one packet's output
  bool configSent_ = false;            // worker
  RateLimit errorReport_;              // worker
  std::atomic<uint64_t> packetsIn_{0};       // taken by the worker (decoded or not)
  std::atomic<uint64_t> framesOut_{0};
  std::atomic<uint64_t> decodeErrors_{0};    // packets the engine refused (an 'error' event when due)
  std::atomic<uint64_t> dropped_{0};         // refused at the door: queue full, closed, bad arguments
  std::atomic<uint64_t> silenceSamples_{0};  // the engine's, copied after each packet

  // Last member, destroyed first: joins the worker before the engine goes.
  Host host_;
};

}  // namespace sigma
