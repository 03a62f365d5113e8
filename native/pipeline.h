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
#include "transcoder.h"

namespace sigma {

/// What the worker hands to the JS thread.
struct Event {
  enum Kind { kChunk, kError, kDone, kRendition, kProblem } kind = kChunk;
  int rendition = 0;  // 0: the source; 1..n: ladder rungs (kProblem: -1 means the decoder)
  std::unique_ptr<Chunk> chunk;
  std::string code, message;
  TrackConfig track;  // kRendition: the rung's encoded video track
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
  std::unique_ptr<Transcoder> transcoder_;  // the ABR ladder, when asked for; driven by the worker
  std::vector<std::string> rungNames_;
  // Ladder counters as stats() last read them; the worker snapshots them before it frees the
  // transcoder. statsMu_ guards these and the transcoder_ pointer itself (not its work).
  struct RungStat {
    uint64_t encoded = 0, dropped = 0, decimated = 0;
  };
  std::mutex statsMu_;
  std::vector<RungStat> rungStats_;
  uint64_t ladderDecoderDropped_ = 0, ladderDecodeErrors_ = 0;
  void SnapshotLadder();     // caller holds statsMu_
  void ResetTranscoder();    // worker: snapshot, then abort/free the ladder
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
