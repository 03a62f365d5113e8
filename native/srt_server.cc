#include "srt_server.h"

#include <arpa/inet.h>
#include <sys/syslog.h>
#include <netinet/in.h>
#include <srt/access_control.h>

#include <chrono>
#include <cstring>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "av_raii.h"
#include "napi_args.h"
#include "native_error.h"

namespace sigma {

namespace {

std::once_flag g_srtStartup;

/// Events waiting for JS beyond this: packets are dropped (and counted) rather than queued
/// without bound while the event loop is stuck.
constexpr int kMaxInFlight = 4000;
/// srt_recvmsg needs room for a whole message (live mode: at most 1456 bytes of payload).
constexpr int kMaxMessage = 1500;
constexpr int kIoBufferSize = 1316 * 8;
/// How often a blocked receive wakes to look at the stop flags.
constexpr int kReceivePollMs = 250;
/// How long the listen callback waits for JS's decision before refusing the caller.
constexpr auto kDecisionTimeout = std::chrono::seconds(3);

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string PeerText(const sockaddr* sa) {
  if (sa == nullptr) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

std::string LastSrtError() {
  const char* text = srt_getlasterror_str();
  return text ? text : "unknown SRT error";
}

/// What the demuxer's read callback needs: the socket, the server's stop flag, and why it stopped.
struct ReadState {
  SRTSOCKET sock;
  const std::atomic<bool>* stopping;
  const std::atomic<bool>* closeRequested;
  int idleTimeoutMs;
  int64_t lastDataMs;
  std::vector<uint8_t> leftover;
  size_t leftoverPos = 0;
  std::string reason;
};

/// The AVIOContext's read: one SRT message per call (its tail kept when the buffer is smaller).
int ReadPacket(void* opaque, uint8_t* buf, int size) {
  auto* st = static_cast<ReadState*>(opaque);
  if (st->leftoverPos < st->leftover.size()) {
    int n = int(std::min<size_t>(size_t(size), st->leftover.size() - st->leftoverPos));
    std::memcpy(buf, st->leftover.data() + st->leftoverPos, size_t(n));
    st->leftoverPos += size_t(n);
    return n;
  }
  uint8_t tmp[kMaxMessage];
  for (;;) {
    if (st->stopping->load()) { st->reason = "server closing"; return AVERROR_EXIT; }
    if (st->closeRequested->load()) { if (st->reason.empty()) st->reason = "closed by the origin"; return AVERROR_EXIT; }
    int n = srt_recvmsg(st->sock, reinterpret_cast<char*>(tmp), sizeof tmp);
    if (n > 0) {
      st->lastDataMs = NowMs();
      if (n <= size) {
        std::memcpy(buf, tmp, size_t(n));
        return n;
      }
      std::memcpy(buf, tmp, size_t(size));
      st->leftover.assign(tmp + size, tmp + n);
      st->leftoverPos = 0;
      return size;
    }
    int err = srt_getlasterror(nullptr);
    // The receive timeout (SRTO_RCVTIMEO): look at the flags and the idle time. On this blocking
    // socket libsrt reports it as SRT_ETIMEOUT ("transmission timed out"), not SRT_EASYNCRCV:
    // taken for an error, the first pause over kReceivePollMs (a retransmission under loss)
    // ended the session.
    if (err == SRT_EASYNCRCV || err == SRT_ETIMEOUT) {
      if (NowMs() - st->lastDataMs >= st->idleTimeoutMs) {
        st->reason = "no data for " + std::to_string(st->idleTimeoutMs / 1000) + " s";
        return AVERROR_EXIT;
      }
      continue;
    }
    st->reason = (err == SRT_ECONNLOST) ? "connection lost" : LastSrtError();
    return AVERROR_EOF;
  }
}

/// avformat_close_input for an opened input (the AVIOContext is ours: AVFMT_FLAG_CUSTOM_IO).
struct InputCloser {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};

}  // namespace

struct SrtEvent {
  enum Kind { kRequest, kOpen, kStreams, kPacket, kClosed } kind;
  SRTSOCKET conn = SRT_INVALID_SOCK;
  std::string streamId, remote, reason;
  struct Stream {
    int index;
    std::string type;  // video, audio, other
    std::string codec;
  };
  std::vector<Stream> streams;
  int streamIndex = 0;
  int64_t pts = AV_NOPTS_VALUE, dts = AV_NOPTS_VALUE;  // 90 kHz, unwrapped by libavformat
  bool keyframe = false;
  std::vector<uint8_t> data;
};

Napi::Function SrtServer::Init(Napi::Env env) {
  return DefineClass(env, "SrtServer", {
    InstanceMethod("start", &SrtServer::Start),
    InstanceMethod("answer", &SrtServer::Answer),
    InstanceMethod("closeConnection", &SrtServer::CloseConnection),
    InstanceMethod("stats", &SrtServer::Stats),
    InstanceMethod("close", &SrtServer::Close),
  });
}

SrtServer::SrtServer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SrtServer>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowConfig(env, "SrtServer needs an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value host = o.Get("host");
  host_ = host.IsString() ? host.As<Napi::String>().Utf8Value() : "0.0.0.0";
  port_ = GetIntIn(env, o, "port", 0, 65535, true, 0);
  latencyMs_ = GetIntIn(env, o, "latencyMs", 20, 8000, false, 120);
  maxConnections_ = GetIntIn(env, o, "maxConnections", 1, 10000, false, 100);
  idleTimeoutMs_ = GetIntIn(env, o, "idleTimeoutMs", 1000, 600000, false, 10000);
}

SrtServer::~SrtServer() {
  // Collected without close() (or at teardown): no JS may run now, only stop and join.
  if (started_ && !closed_) {
    Shutdown();
    tsfn_.Abort();
  }
}

Napi::Value SrtServer::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (started_) throw CodedError(env, "ERR_NATIVE_STATE", "SrtServer already started");
  std::call_once(g_srtStartup, [] {
    srt_startup();
    // libsrt logs to stderr on its own; the origin logs every refusal and close itself (pino), so
    // only what would be a crash-level problem is left to libsrt.
    srt_setloglevel(LOG_CRIT);
  });
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host_.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(uint16_t(port_));
    addrLen = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(uint16_t(port_));
    addrLen = sizeof(sockaddr_in6);
  } else {
    ThrowConfig(env, "host must be an IPv4 or IPv6 address: " + host_);
  }
  SRTSOCKET s = srt_create_socket();
  if (s == SRT_INVALID_SOCK) throw CodedError(env, "ERR_SRT", "cannot create an SRT socket: " + LastSrtError());
  int latency = latencyMs_;
  srt_setsockflag(s, SRTO_LATENCY, &latency, sizeof latency);
  if (srt_listen_callback(s, &SrtServer::ListenCallback, this) != 0 ||
      srt_bind(s, reinterpret_cast<sockaddr*>(&addr), int(addrLen)) != 0 || srt_listen(s, 64) != 0) {
    std::string why = LastSrtError();
    srt_close(s);
    throw CodedError(env, "ERR_SRT", "cannot listen for SRT on " + host_ + ":" + std::to_string(port_) + ": " + why);
  }
  sockaddr_storage bound{};
  int boundLen = sizeof bound;
  srt_getsockname(s, reinterpret_cast<sockaddr*>(&bound), &boundLen);
  int port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_ = s;
  // The wrapper stays alive (Ref) until the TSFN is finalized: events still queued after
  // close() refer to it. The TSFN is unref'd: like a pipeline, a listener does not keep the
  // process alive.
  tsfn_ = Tsfn::New(env, "sigma-srt", 0, 1, this, [](Napi::Env, void*, SrtServer* self) { self->Unref(); });
  tsfn_.Unref(env);
  Ref();
  started_ = true;
  acceptThread_ = std::thread(&SrtServer::AcceptLoop, this);
  return Napi::Number::New(env, port);
}

int SrtServer::ListenCallback(void* opaque, SRTSOCKET ns, int, const struct sockaddr* peer, const char* streamid) {
  return static_cast<SrtServer*>(opaque)->OnCaller(ns, peer, streamid);
}

int SrtServer::OnCaller(SRTSOCKET ns, const struct sockaddr* peer, const char* streamid) {
  if (stopping_.load()) return -1;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (int(conns_.size() + pending_.size()) >= maxConnections_) {
      srt_setrejectreason(ns, SRT_REJX_OVERLOAD);
      return -1;
    }
    pending_[ns] = Decision{};
  }
  auto ev = std::make_unique<SrtEvent>();
  ev->kind = SrtEvent::kRequest;
  ev->conn = ns;
  ev->streamId = streamid ? streamid : "";
  ev->remote = PeerText(peer);
  Post(std::move(ev));
  std::unique_lock<std::mutex> lk(mu_);
  decided_.wait_for(lk, kDecisionTimeout, [&] { return stopping_.load() || pending_[ns].answered; });
  Decision d = pending_[ns];
  pending_.erase(ns);
  if (!d.answered || !d.accept || stopping_.load()) {
    srt_setrejectreason(ns, d.rejectCode != 0 ? d.rejectCode : SRT_REJX_FORBIDDEN);
    return -1;
  }
  if (!d.passphrase.empty() && srt_setsockflag(ns, SRTO_PASSPHRASE, d.passphrase.c_str(), int(d.passphrase.size())) != 0) {
    srt_setrejectreason(ns, SRT_REJX_BAD_REQUEST);
    return -1;
  }
  return 0;
}

Napi::Value SrtServer::Answer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsBoolean()) throw CodedError(env, "ERR_NATIVE_ARGS", "answer(connId, accept, passphrase?, rejectCode?)");
  auto ns = SRTSOCKET(info[0].As<Napi::Number>().Int32Value());
  std::lock_guard<std::mutex> lk(mu_);
  auto it = pending_.find(ns);
  if (it == pending_.end()) return Napi::Boolean::New(env, false);  // the caller gave up meanwhile
  it->second.answered = true;
  it->second.accept = info[1].As<Napi::Boolean>().Value();
  if (info[2].IsString()) it->second.passphrase = info[2].As<Napi::String>().Utf8Value();
  if (info[3].IsNumber()) it->second.rejectCode = info[3].As<Napi::Number>().Int32Value();
  decided_.notify_all();
  return Napi::Boolean::New(env, true);
}

void SrtServer::AcceptLoop() {
  while (!stopping_.load()) {
    sockaddr_storage sa{};
    int len = sizeof sa;
    SRTSOCKET s = srt_accept(listener_, reinterpret_cast<sockaddr*>(&sa), &len);
    if (s == SRT_INVALID_SOCK) {
      if (stopping_.load()) break;
      int err = srt_getlasterror(nullptr);
      if (err == SRT_EINVSOCK || err == SRT_ESCLOSED || err == SRT_ENOLISTEN) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    char sid[768];
    int sidLen = sizeof sid - 1;
    if (srt_getsockflag(s, SRTO_STREAMID, sid, &sidLen) != 0) sidLen = 0;
    sid[sidLen] = '\0';
    int timeout = kReceivePollMs;
    srt_setsockflag(s, SRTO_RCVTIMEO, &timeout, sizeof timeout);
    JoinFinished();
    auto ev = std::make_unique<SrtEvent>();
    ev->kind = SrtEvent::kOpen;
    ev->conn = s;
    ev->streamId = sid;
    ev->remote = PeerText(reinterpret_cast<sockaddr*>(&sa));
    // 'open' before the reader's first event: posted while the reader cannot run yet.
    std::lock_guard<std::mutex> lk(mu_);
    Post(std::move(ev));
    auto conn = std::make_unique<Conn>();
    conn->sock = s;
    Conn* raw = conn.get();
    conns_[s] = std::move(conn);
    raw->thread = std::thread(&SrtServer::ReadLoop, this, s, raw);
  }
}

void SrtServer::ReadLoop(SRTSOCKET sock, Conn* conn) {
  ReadState st{sock, &stopping_, &conn->closeRequested, idleTimeoutMs_, NowMs(), {}, 0, {}};
  auto* iobuf = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  AvioPtr avio(iobuf ? avio_alloc_context(iobuf, kIoBufferSize, 0, &st, &ReadPacket, nullptr, nullptr) : nullptr);
  if (!avio && iobuf) av_free(iobuf);
  std::unique_ptr<AVFormatContext, InputCloser> fmt;
  AVFormatContext* raw = avio ? avformat_alloc_context() : nullptr;
  if (raw != nullptr) {
    raw->pb = avio.get();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary* opts = nullptr;
    // A live encoder's first second tells what the streams are; waiting longer only adds delay.
    av_dict_set(&opts, "probesize", "400000", 0);
    av_dict_set(&opts, "analyzeduration", "1000000", 0);
    int r = avformat_open_input(&raw, nullptr, av_find_input_format("mpegts"), &opts);
    av_dict_free(&opts);
    if (r < 0) {
      if (st.reason.empty()) st.reason = "not MPEG-TS: " + AvErrorText(r);
    } else {
      fmt.reset(raw);
    }
  } else {
    st.reason = "out of memory";
  }
  if (fmt && avformat_find_stream_info(fmt.get(), nullptr) < 0 && st.reason.empty()) st.reason = "cannot read the streams";
  if (fmt && st.reason.empty()) {
    auto ev = std::make_unique<SrtEvent>();
    ev->kind = SrtEvent::kStreams;
    ev->conn = sock;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
      const AVCodecParameters* p = fmt->streams[i]->codecpar;
      const char* type = p->codec_type == AVMEDIA_TYPE_VIDEO ? "video" : p->codec_type == AVMEDIA_TYPE_AUDIO ? "audio" : "other";
      ev->streams.push_back({int(i), type, avcodec_get_name(p->codec_id)});
    }
    Post(std::move(ev));
    PacketPtr pkt(av_packet_alloc());
    while (pkt && !stopping_.load()) {
      int r = av_read_frame(fmt.get(), pkt.get());
      if (r < 0) {
        if (st.reason.empty()) st.reason = r == AVERROR_EOF ? "the publisher closed the connection" : AvErrorText(r);
        break;
      }
      AVStream* stream = fmt->streams[pkt->stream_index];
      AVMediaType type = stream->codecpar->codec_type;
      if ((type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO) && pkt->size > 0) {
        if (inFlight_.load() >= kMaxInFlight) {
          droppedPackets_++;
        } else {
          auto p = std::make_unique<SrtEvent>();
          p->kind = SrtEvent::kPacket;
          p->conn = sock;
          p->streamIndex = pkt->stream_index;
          p->pts = av_rescale_q(pkt->pts, stream->time_base, AVRational{1, 90000});
          p->dts = av_rescale_q(pkt->dts, stream->time_base, AVRational{1, 90000});
          if (pkt->pts == AV_NOPTS_VALUE) p->pts = AV_NOPTS_VALUE;
          if (pkt->dts == AV_NOPTS_VALUE) p->dts = AV_NOPTS_VALUE;
          p->keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
          p->data.assign(pkt->data, pkt->data + pkt->size);
          Post(std::move(p));
        }
      }
      av_packet_unref(pkt.get());
    }
  }
  fmt.reset();
  avio.reset();
  srt_close(sock);
  auto ev = std::make_unique<SrtEvent>();
  ev->kind = SrtEvent::kClosed;
  ev->conn = sock;
  ev->reason = st.reason.empty() ? "closed" : st.reason;
  Post(std::move(ev));
  conn->finished = true;
}

void SrtServer::Post(std::unique_ptr<SrtEvent> ev) {
  inFlight_++;
  if (tsfn_.NonBlockingCall(ev.get()) == napi_ok) {
    ev.release();  // CallJs owns it now
  } else {
    inFlight_--;
  }
}

void SrtServer::CallJs(Napi::Env env, Napi::Function, SrtServer* self, SrtEvent* raw) {
  std::unique_ptr<SrtEvent> ev(raw);
  if (self) self->inFlight_--;
  if (env == nullptr || !ev) return;
  try {
    Napi::HandleScope scope(env);
    self->Deliver(env, *ev);
  } catch (const Napi::Error&) {
  }
}

void SrtServer::Deliver(Napi::Env env, SrtEvent& ev) {
  Napi::Object target = Value();
  Napi::Value fn = target.Get("onEvent");
  if (!fn.IsFunction()) return;
  Napi::Object p = Napi::Object::New(env);
  p.Set("conn", Napi::Number::New(env, ev.conn));
  const char* kind = "closed";
  switch (ev.kind) {
    case SrtEvent::kRequest:
    case SrtEvent::kOpen:
      kind = ev.kind == SrtEvent::kRequest ? "request" : "open";
      p.Set("streamId", Napi::String::New(env, ev.streamId));
      p.Set("remoteAddress", Napi::String::New(env, ev.remote));
      break;
    case SrtEvent::kStreams: {
      kind = "streams";
      Napi::Array list = Napi::Array::New(env, ev.streams.size());
      for (size_t i = 0; i < ev.streams.size(); i++) {
        Napi::Object s = Napi::Object::New(env);
        s.Set("index", Napi::Number::New(env, ev.streams[i].index));
        s.Set("type", Napi::String::New(env, ev.streams[i].type));
        s.Set("codec", Napi::String::New(env, ev.streams[i].codec));
        list.Set(uint32_t(i), s);
      }
      p.Set("streams", list);
      break;
    }
    case SrtEvent::kPacket: {
      kind = "packet";
      p.Set("stream", Napi::Number::New(env, ev.streamIndex));
      p.Set("pts", ev.pts == AV_NOPTS_VALUE ? env.Null() : Napi::Number::New(env, double(ev.pts)));
      p.Set("dts", ev.dts == AV_NOPTS_VALUE ? env.Null() : Napi::Number::New(env, double(ev.dts)));
      p.Set("keyframe", Napi::Boolean::New(env, ev.keyframe));
      auto* bytes = new std::vector<uint8_t>(std::move(ev.data));
      p.Set("data", Napi::Buffer<uint8_t>::New(env, bytes->data(), bytes->size(),
                                               [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, bytes));
      break;
    }
    case SrtEvent::kClosed:
      p.Set("reason", Napi::String::New(env, ev.reason));
      break;
  }
  fn.As<Napi::Function>().Call(target, {Napi::String::New(env, kind), p});
}

Napi::Value SrtServer::CloseConnection(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw CodedError(env, "ERR_NATIVE_ARGS", "closeConnection(connId)");
  auto s = SRTSOCKET(info[0].As<Napi::Number>().Int32Value());
  std::lock_guard<std::mutex> lk(mu_);
  auto it = conns_.find(s);
  if (it == conns_.end()) return Napi::Boolean::New(env, false);
  it->second->closeRequested = true;  // the reader sees it within kReceivePollMs and closes
  return Napi::Boolean::New(env, true);
}

Napi::Value SrtServer::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw CodedError(env, "ERR_NATIVE_ARGS", "stats(connId)");
  auto s = SRTSOCKET(info[0].As<Napi::Number>().Int32Value());
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = conns_.find(s);
    if (it == conns_.end() || it->second->finished) return env.Undefined();
  }
  SRT_TRACEBSTATS perf{};
  if (srt_bstats(s, &perf, 0) != 0) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rttMs", Napi::Number::New(env, perf.msRTT));
  o.Set("receiveRateMbps", Napi::Number::New(env, perf.mbpsRecvRate));
  o.Set("packetsReceived", Napi::Number::New(env, double(perf.pktRecvTotal)));
  o.Set("packetsLost", Napi::Number::New(env, perf.pktRcvLossTotal));
  o.Set("packetsRetransmitted", Napi::Number::New(env, perf.pktRcvRetrans));
  o.Set("packetsDropped", Napi::Number::New(env, perf.pktRcvDropTotal));
  o.Set("packetsUndecrypted", Napi::Number::New(env, perf.pktRcvUndecryptTotal));
  o.Set("bytesReceived", Napi::Number::New(env, double(perf.byteRecvTotal)));
  o.Set("latencyMs", Napi::Number::New(env, perf.msRcvTsbPdDelay));
  o.Set("packetsDroppedBeforeJs", Napi::Number::New(env, double(droppedPackets_.load())));
  return o;
}

void SrtServer::JoinFinished() {
  std::vector<std::unique_ptr<Conn>> done;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->second->finished) {
        done.push_back(std::move(it->second));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : done) if (c->thread.joinable()) c->thread.join();
}

void SrtServer::Shutdown() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    decided_.notify_all();
  }
  if (listener_ != SRT_INVALID_SOCK) srt_close(listener_);  // srt_accept returns
  if (acceptThread_.joinable()) acceptThread_.join();
  std::map<SRTSOCKET, std::unique_ptr<Conn>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    all.swap(conns_);
  }
  for (auto& [sock, c] : all) if (c->thread.joinable()) c->thread.join();  // each sees stopping_ within kReceivePollMs
}

Napi::Value SrtServer::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!started_ || closed_) return env.Undefined();
  closed_ = true;
  Shutdown();
  tsfn_.Release();  // the readers' last 'closed' events are still delivered, then the finalizer unrefs
  return env.Undefined();
}

}  // namespace sigma
