// Why: the pipeline's buffers are allocated on one thread and freed on another (an access unit
// copied on the JS thread and freed by the muxer's worker, a CMAF part made by the worker and
// freed when JS drops it). glibc keeps such freed memory in per-thread arenas and only returns
// the top of each heap, so RSS stays at the high-water mark of every arena (measured: ~30 MiB
// of 80 MiB held free for one 3 Mb/s channel). malloc_trim(0) also releases the whole free
// pages inside the arenas (madvise), which is what makes RSS follow the memory in use.
#include "memory_trim.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sigma {

namespace {

class TrimWorker : public Napi::AsyncWorker {
 public:
  explicit TrimWorker(Napi::Env env) : Napi::AsyncWorker(env, "sigma_native.trimMemory"), deferred_(env) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
#if defined(__GLIBC__)
    released_ = malloc_trim(0) != 0;
#endif
  }

  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), released_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  bool released_ = false;
};

}  // namespace

Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
  // Owned by node-addon-api once queued: it deletes itself after OnOK/OnError.
  auto* worker = new TrimWorker(info.Env());
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace sigma
