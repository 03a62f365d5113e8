// RAII owners for every libav object the addon touches. Nothing here crosses into JS:
// the N-API layer only ever sees plain bytes and numbers.
#pragma once

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace sigma {

struct PacketDeleter {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

/// Frees the AVFormatContext and everything it owns (streams, codec parameters, the muxer's
/// private state through its deinit). With AVFMT_FLAG_CUSTOM_IO it leaves ctx->pb alone;
/// that one is owned by an AvioPtr.
struct FormatContextDeleter {
  void operator()(AVFormatContext* c) const noexcept { avformat_free_context(c); }
};
using FormatContextPtr = std::unique_ptr<AVFormatContext, FormatContextDeleter>;

/// A custom AVIOContext owns its buffer separately (libav may have reallocated it, so free
/// ctx->buffer, not the pointer we passed in).
struct AvioDeleter {
  void operator()(AVIOContext* c) const noexcept {
    if (!c) return;
    av_freep(&c->buffer);
    avio_context_free(&c);
  }
};
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct SwsContextDeleter {
  void operator()(SwsContext* c) const noexcept { sws_freeContext(c); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

struct SwrContextDeleter {
  void operator()(SwrContext* c) const noexcept { swr_free(&c); }
};
using SwrContextPtr = std::unique_ptr<SwrContext, SwrContextDeleter>;

struct AudioFifoDeleter {
  void operator()(AVAudioFifo* f) const noexcept { av_audio_fifo_free(f); }
};
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

/// Allocates an empty packet; throws std::bad_alloc when libav cannot.
inline PacketPtr MakePacket() {
  AVPacket* p = av_packet_alloc();
  if (!p) throw std::bad_alloc();
  return PacketPtr(p);
}

/// Allocates an empty frame; throws std::bad_alloc when libav cannot.
inline FramePtr MakeFrame() {
  AVFrame* f = av_frame_alloc();
  if (!f) throw std::bad_alloc();
  return FramePtr(f);
}

}  // namespace sigma
