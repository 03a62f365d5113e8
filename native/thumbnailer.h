// N-API face of one channel's thumbnails: a small bounded queue of keyframes feeding a native
// worker thread that owns a ThumbnailEngine; JPEGs come back through a thread-safe function.
// Lifecycle and ownership follow Pipeline (pipeline.h): close() drains and joins, GC without
// close aborts and joins, an env cleanup hook does the same at teardown.
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

#include "av_raii.h"
#include "thumbnail_engine.h"

namespace sigma {

/// What the worker hands to the JS thread.
struct ThumbEvent {
  enum Kind { kThumbnail, kTile, kError, kDone } kind = kThumbnail;
  double timeMs = 0;
  Jpeg jpeg;         // kThumbnail: the thumbnail; kTile: the sheet
  TileResult tile;   // kTile (its sheetJpeg is moved into `jpeg`)
  std::string code, message;
};

class Thumbnailer : public Napi::ObjectWrap<Thumbnailer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Thumbnailer(const Napi::CallbackInfo& info);
  ~Thumbnailer() override;

  /// write()'s `what` bits.
  static constexpr int kWantThumbnail = 1, kWantTile = 2;

 private:
  struct Job {
    double timeMs;
    int what;
    std::vector<uint8_t> data;
  };

  static void CallJs(Napi::Env env, Napi::Function, Thumbnailer* self, ThumbEvent* ev);
  using Tsfn = Napi::TypedThreadSafeFunction<Thumbnailer, ThumbEvent, &Thumbnailer::CallJs>;
  static void OnEnvCleanup(void* arg);
  static void Deliver(Napi::Env env, Thumbnailer* self, ThumbEvent& ev);

  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Run();                      // worker thread body
  void Process(Job& job);          // one keyframe: decode, then thumbnail and/or tile
  void Post(std::unique_ptr<ThumbEvent> ev);
  void StopAndJoin();              // abort path: GC finalizer or environment teardown

  std::unique_ptr<ThumbnailEngine> engine_;  // touched only by the worker once it runs
  Tsfn tsfn_;
  std::thread worker_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;          // guarded by mu_
  bool closing_ = false;           // guarded by mu_
  bool abort_ = false;             // guarded by mu_
  std::atomic<bool> abortFlag_{false};

  size_t maxQueue_ = 4;
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> dropped_{0};    // refused at the door: queue full, bad arguments
  std::atomic<uint64_t> failed_{0};     // undecodable or not a keyframe (an error event each)
  std::atomic<uint64_t> thumbnails_{0};
  std::atomic<uint64_t> tiles_{0};

  bool closeCalled_ = false;       // JS thread only
  bool cleanupHookRegistered_ = false;
  napi_env env_ = nullptr;
};

}  // namespace sigma
