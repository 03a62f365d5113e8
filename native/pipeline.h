// N-API face of one channel's CMAF pipeline: a bounded queue feeding a native worker thread
// that owns a CmafMuxer; chunks come back through a thread-safe function.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "av_raii.h"
#include "cmaf_muxer.h"

namespace sigma {

/// What the worker hands to the JS thread.
struct Event {
  enum Kind { kChunk, kError, kDone } kind = kChunk;
  std::unique_ptr<Chunk> chunk;
  std::string code, message;
};

class Pipeline : public Napi::ObjectWrap<Pipeline> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Pipeline(const Napi::CallbackInfo& info);
  ~Pipeline() override;

 private:
  struct Item {
    int stream;
    int64_t dts, pts;
    bool keyframe;
    PacketPtr pkt;
  };

  static void CallJs(Napi::Env env, Napi::Function, Pipeline* self, Event* ev);
  using Tsfn = Napi::TypedThreadSafeFunction<Pipeline, Event, &Pipeline::CallJs>;
  static void OnEnvCleanup(void* arg);

  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Run();                      // worker thread body
  void Post(std::unique_ptr<Event> ev);
  void ReportError(const std::string& code, const std::string& message);
  void StopAndJoin();              // abort path: GC finalizer or environment teardown

  std::unique_ptr<CmafMuxer> muxer_;  // touched only by the worker once it runs
  std::vector<int> streamOfTrackId_;  // JS thread's copy: track id -> stream index (-1)
  Tsfn tsfn_;
  std::thread worker_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;          // guarded by mu_
  bool closing_ = false;            // guarded by mu_
  bool abort_ = false;              // guarded by mu_
  std::atomic<bool> failed_{false};
  std::atomic<bool> abortFlag_{false};

  size_t maxQueue_ = 2000;
  uint64_t failAfterWrites_ = 0;    // test hook: inject a muxing error after N written AUs
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};

  bool closeCalled_ = false;        // JS thread only
  bool cleanupHookRegistered_ = false;
  napi_env env_ = nullptr;
};

}  // namespace sigma
