// The part every N-API class with a native worker shares (CmafPipeline, Thumbnailer): a
// bounded job queue, the worker thread, the thread-safe function back to JS, and the lifecycle
// around them. close() drains and joins; a wrapper collected without close(), and environment
// teardown, abort and join; an open worker does not keep the process alive.
//
// The owner keeps a WorkerHost as its LAST member, so that it is destroyed first: its
// destructor joins the worker before the state the worker uses (muxer, engine) is freed.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "napi_args.h"

namespace sigma {

/// Self provides `static void Deliver(Napi::Env, Self*, Event&)` (it may be private if Self
/// befriends its WorkerHost); it must call Done(self) for its 'done' event.
template <typename Self, typename Job, typename Event>
class WorkerHost {
 public:
  /// Runs each event on the JS thread.
  static void CallJs(Napi::Env env, Napi::Function, Self* self, Event* raw) {
    std::unique_ptr<Event> ev(raw);
    if (env == nullptr || ev == nullptr) return;  // TSFN teardown: just free the event
    // Node may still deliver events in its last loop turn at exit (before the cleanup hooks),
    // when no JS can run and every N-API call fails: a C++ exception escaping this C callback
    // would abort the process, so none may leave.
    try {
      Napi::HandleScope scope(env);
      Self::Deliver(env, self, *ev);
    } catch (const Napi::Error&) {
    }
  }

  using Tsfn = Napi::TypedThreadSafeFunction<Self, Event, &WorkerHost::CallJs>;

  /// Calls the wrapper's own `onEvent(kind, payload)` (a property of the JS object: a strong
  /// native reference to the callback would keep the wrapper alive forever). A throw there
  /// surfaces as an uncaught exception, like an emitter's.
  static void Emit(Napi::Env env, const Napi::Object& target, const char* kind, Napi::Value payload) {
    if (target.IsEmpty()) return;
    Napi::Value fn = target.Get("onEvent");
    if (!fn.IsFunction()) return;
    try {
      fn.As<Napi::Function>().Call(target, {Napi::String::New(env, kind), payload});
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
  }

  /// What the worker thread runs, all on the worker.
  struct Hooks {
    std::function<void()> start;                     // before the first job (may be empty)
    std::function<void(Job&)> process;               // each job, in order
    std::function<std::unique_ptr<Event>()> finish;  // at close, after the last job: frees state, returns 'done'
    std::function<void()> abort;                     // aborted (GC, teardown): stop helper threads that Post (may be empty)
  };

  WorkerHost() = default;
  WorkerHost(const WorkerHost&) = delete;
  WorkerHost& operator=(const WorkerHost&) = delete;

  ~WorkerHost() {
    StopAndJoin();
    if (cleanupHookRegistered_) napi_remove_env_cleanup_hook(env_, &WorkerHost::OnEnvCleanup, this);
  }

  /// Creates the thread-safe function and starts the worker; beyond `maxQueue` waiting jobs,
  /// Push() refuses. Throws ERR_NATIVE_THREAD.
  void Start(Napi::Env env, Self* self, const char* name, size_t maxQueue, Hooks hooks) {
    env_ = env;
    maxQueue_ = maxQueue;
    hooks_ = std::move(hooks);
    tsfn_ = Tsfn::New(env, name, 0, 1, self);
    tsfn_.Unref(env);  // an open worker alone does not keep the process alive; close() holds it
    try {
      worker_ = std::thread(&WorkerHost::Run, this);
    } catch (const std::system_error& e) {
      tsfn_.Abort();
      throw CodedError(env, "ERR_NATIVE_THREAD", std::string("cannot start worker thread: ") + e.what());
    }
    // Runs before the thread-safe function's own teardown (hooks run in reverse order).
    if (napi_add_env_cleanup_hook(env, &WorkerHost::OnEnvCleanup, this) == napi_ok) cleanupHookRegistered_ = true;
  }

  /// True when a job would be refused now (check before copying a large one).
  bool Full() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size() >= maxQueue_;
  }

  /// Queues a job; false (nothing queued) when the queue is full or close() was called.
  bool Push(Job job) {
    if (closeCalled_) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= maxQueue_) return false;
      queue_.push_back(std::move(job));
      queued_.fetch_add(1, std::memory_order_relaxed);
    }
    cv_.notify_one();
    return true;
  }

  /// close(): the worker finishes the queued jobs, then posts the 'done' event. False when called before.
  bool Close(Napi::Env env, Self* self) {
    if (closeCalled_) return false;
    closeCalled_ = true;
    self->Ref();     // keep the wrapper (and its onEvent) alive until 'done' is delivered
    tsfn_.Ref(env);  // and the event loop
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    return true;
  }

  /// From CallJs on the 'done' event: the worker posted it as its last act, so this returns at once.
  void Done(Self* self) {
    if (worker_.joinable()) worker_.join();
    self->Unref();
  }

  /// From the worker: hands an event to the JS thread. Non-blocking with an unbounded TSFN
  /// queue: the worker must never wait on the JS thread, which joins it on close and teardown.
  void Post(std::unique_ptr<Event> ev) {
    if (tsfn_.NonBlockingCall(ev.get()) == napi_ok) ev.release();
  }

  bool closeCalled() const { return closeCalled_; }
  /// Jobs queued or being processed.
  uint64_t queued() const { return queued_.load(); }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<WorkerHost*>(arg);
    self->cleanupHookRegistered_ = false;
    self->StopAndJoin();
  }

  /// The abort path: GC finalizer or environment teardown.
  void StopAndJoin() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      abort_ = true;
    }
    abortFlag_.store(true);
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  void Run() {
    if (hooks_.start) hooks_.start();
    for (;;) {
      std::deque<Job> batch;
      bool closing;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return abort_ || closing_ || !queue_.empty(); });
        if (abort_) break;
        batch.swap(queue_);
        closing = closing_;
      }
      for (auto& job : batch) {
        if (abortFlag_.load(std::memory_order_relaxed)) break;
        hooks_.process(job);
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (abortFlag_.load()) break;
      if (closing) {
        // close() refuses further jobs before setting closing_, so the batch held everything.
        Post(hooks_.finish());
        tsfn_.Release();
        return;
      }
    }
    // Aborted: nobody listens any more; queued events are freed by the TSFN teardown (CallJs
    // with env == nullptr). Threads of the owner's that Post must end before the TSFN does.
    if (hooks_.abort) hooks_.abort();
    tsfn_.Abort();
  }

  Hooks hooks_;
  Tsfn tsfn_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;     // guarded by mu_
  bool closing_ = false;      // guarded by mu_
  bool abort_ = false;        // guarded by mu_
  std::atomic<bool> abortFlag_{false};
  size_t maxQueue_ = 1;
  std::atomic<uint64_t> queued_{0};
  bool closeCalled_ = false;  // JS thread only
  bool cleanupHookRegistered_ = false;
  napi_env env_ = nullptr;
};

}  // namespace sigma
