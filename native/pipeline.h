// N-API face of one channel's CMAF pipeline: a bounded queue feeding a native worker thread
// that owns a CmafMuxer (and, with a ladder, the Transcoder); chunks come back through a
// thread-safe function.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "av_raii.h"
#include "cmaf_muxer.h"
#include "transcoder.h"
#include "worker_host.h"

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
  void StartLadder();                      // on the worker, after the muxer's header
  void SnapshotLadder();                   // caller holds statsMu_
  void ResetTranscoder();                  // on the worker: snapshot, then abort/free the ladder

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
  std::vector<int> streamOfTrackId_;  // JS thread's copy: track id -> stream index (-1)
  std::atomic<bool> failed_{false};

  uint64_t failAfterWrites_ = 0;    // test hook: inject a muxing error after N written AUs
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};

  // Last member, destroyed first: joins the worker before the muxer goes.
  Host host_;
};

}  // namespace sigma
