// N-API face of one channel's CMAF pipeline: a bounded queue feeding a native worker thread
// that owns a CmafMuxer; chunks come back through a thread-safe function.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "av_raii.h"
#include "cmaf_muxer.h"
#include "worker_host.h"

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

 private:
  struct Item {
    int stream;
    int64_t dts, pts;
    bool keyframe;
    PacketPtr pkt;
  };

  using Host = WorkerHost<Pipeline, Item, Event>;
  friend Host;
  static void Deliver(Napi::Env env, Pipeline* self, Event& ev);  // on the JS thread, through the host

  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Process(Item& item);                // on the worker: one AU into the muxer
  std::unique_ptr<Event> Finish();         // on the worker at close: final part, trailer, free
  void ReportError(const std::string& code, const std::string& message);

  std::unique_ptr<CmafMuxer> muxer_;  // touched only by the worker once it runs
  std::vector<int> streamOfTrackId_;  // JS thread's copy: track id -> stream index (-1)
  std::atomic<bool> failed_{false};

  uint64_t failAfterWrites_ = 0;    // test hook: inject a muxing error after N written AUs
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};

  // Last member, destroyed first: joins the worker before the muxer goes.
  Host host_;
};

}  // namespace sigma
