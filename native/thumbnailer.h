// N-API face of one channel's thumbnails: a small bounded queue of keyframes feeding a native
// worker thread that owns a ThumbnailEngine; JPEGs come back through a thread-safe function.
// Lifecycle and ownership follow Pipeline (pipeline.h): close() drains and joins, GC without
// close aborts and joins, an env cleanup hook does the same at teardown.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "av_raii.h"
#include "thumbnail_engine.h"
#include "worker_host.h"

namespace sigma {

/// What the worker hands to the JS thread.
struct ThumbEvent {
  enum Kind { kThumbnail, kTile, kError, kDone } kind = kThumbnail;
  double timeMs = 0;
  Jpeg jpeg;         // kThumbnail: the thumbnail; kTile: the sheet
  TileResult tile;   // kTile (its sheetJpeg is moved into `jpeg`; its tileJpeg stays here)
  std::string code, message;
};

class Thumbnailer : public Napi::ObjectWrap<Thumbnailer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Thumbnailer(const Napi::CallbackInfo& info);

  /// write()'s `what` bits.
  static constexpr int kWantThumbnail = 1, kWantTile = 2;

 private:
  struct Job {
    double timeMs;
    int what;
    std::vector<uint8_t> data;
  };

  using Host = WorkerHost<Thumbnailer, Job, ThumbEvent>;
  friend Host;
  static void Deliver(Napi::Env env, Thumbnailer* self, ThumbEvent& ev);  // on the JS thread, through the host

  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Process(Job& job);          // on the worker: one keyframe, decoded, then thumbnail and/or tile

  std::unique_ptr<ThumbnailEngine> engine_;  // touched only by the worker once it runs
  std::atomic<uint64_t> dropped_{0};    // refused at the door: queue full, bad arguments
  std::atomic<uint64_t> failed_{0};     // undecodable or not a keyframe (an error event each)
  std::atomic<uint64_t> thumbnails_{0};
  std::atomic<uint64_t> tiles_{0};

  // Last member, destroyed first: joins the worker before the engine goes.
  Host host_;
};

}  // namespace sigma
