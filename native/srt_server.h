// SrtServer (JS class SrtServer): an SRT listener (libsrt, Debian's GnuTLS flavour, the same
// library libavformat links) that demuxes each publisher's MPEG-TS with libavformat and hands
// the elementary stream packets to JS. JS decides each caller from its streamid before the
// handshake completes (the listen callback waits for its answer), which is when a passphrase
// must be set on the new socket.
//
// Threads: one accept thread; one reader thread per connection (srt_recvmsg into a custom
// AVIOContext, av_read_frame); events to JS through one thread-safe function, never waiting
// for JS except in the listen callback (bounded). close() stops and joins every thread.
#pragma once

#include <napi.h>
#include <srt/srt.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sigma {

struct SrtEvent;

class SrtServer : public Napi::ObjectWrap<SrtServer> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit SrtServer(const Napi::CallbackInfo& info);
  ~SrtServer() override;

 private:
  struct Decision {
    bool answered = false;
    bool accept = false;
    std::string passphrase;
    int rejectCode = 0;
  };
  struct Conn {
    SRTSOCKET sock = SRT_INVALID_SOCK;
    std::thread thread;
    std::atomic<bool> finished{false};
    std::atomic<bool> closeRequested{false};
  };

  static void CallJs(Napi::Env env, Napi::Function, SrtServer* self, SrtEvent* ev);
  using Tsfn = Napi::TypedThreadSafeFunction<SrtServer, SrtEvent, &SrtServer::CallJs>;

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Answer(const Napi::CallbackInfo& info);
  Napi::Value CloseConnection(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static int ListenCallback(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer, const char* streamid);
  int OnCaller(SRTSOCKET ns, const struct sockaddr* peer, const char* streamid);
  void AcceptLoop();
  void ReadLoop(SRTSOCKET sock, Conn* conn);
  void Post(std::unique_ptr<SrtEvent> ev);
  void Deliver(Napi::Env env, SrtEvent& ev);
  void Shutdown();
  void JoinFinished();

  std::string host_;
  int port_ = 0;
  int latencyMs_ = 120;
  int maxConnections_ = 100;
  int idleTimeoutMs_ = 10000;
  SRTSOCKET listener_ = SRT_INVALID_SOCK;
  std::thread acceptThread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool closed_ = false;
  Tsfn tsfn_;

  std::mutex mu_;
  std::condition_variable decided_;
  std::map<SRTSOCKET, Decision> pending_;  // callers waiting for JS's answer
  std::map<SRTSOCKET, std::unique_ptr<Conn>> conns_;
  std::atomic<int> inFlight_{0};  // events posted and not yet delivered
  std::atomic<int64_t> droppedPackets_{0};
};

}  // namespace sigma
