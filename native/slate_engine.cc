#include "slate_engine.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aac_encoder.h"
#include "codec_config.h"
#include "h264_encoder.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/common.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
}

namespace sigma {
namespace {

constexpr int kMinSize = 16, kMaxSize = 4096;
constexpr int64_t kMinDurationMs = 100, kMaxDurationMs = 30000;
// A picture file larger than this is not a slate; a decoded picture beyond kMaxImagePixels (8K
// UHD) is refused before the decoder allocates it (a PNG header may claim any size).
constexpr long kMaxImageBytes = 64L << 20;
constexpr int kMaxImagePixels = 7680 * 4320;
// With both tracks the loop may end up longer than asked, to the nearest length where video
// and audio frames end together: at most this much longer.
constexpr int64_t kMaxLoopExtensionMs = 6000;
// Black in limited-range BT.601 4:2:0: the letterbox bars.
constexpr uint8_t kBlackY = 16, kNeutralChroma = 128;
// AAC-LC at 32 kb/s per channel: more than silence needs, within what the encoder accepts.
constexpr int64_t kAacBitratePerChannel = 32000;

[[noreturn]] void ConfigError(const std::string& msg) { throw NativeError("ERR_SLATE_CONFIG", msg); }
[[noreturn]] void ImageError(const std::string& msg) { throw NativeError("ERR_SLATE_IMAGE", msg); }
[[noreturn]] void EncodeError(const std::string& msg, int err = 0) {
  throw NativeError("ERR_SLATE_ENCODE", err ? msg + ": " + AvErrorText(err) : msg);
}

/// Timestamp in ms of frame `i` when each frame lasts `frameMs`.
int64_t FrameTimeMs(int64_t i, double frameMs) { return std::llround(double(i) * frameMs); }

// ---- the picture ---------------------------------------------------------------------------

FramePtr BlankPicture(int width, int height) {
  FramePtr f = MakeFrame();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = width;
  f->height = height;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  for (int y = 0; y < height; y++) std::memset(f->data[0] + y * f->linesize[0], kBlackY, size_t(width));
  for (int p = 1; p <= 2; p++)
    for (int y = 0; y < height / 2; y++) std::memset(f->data[p] + y * f->linesize[p], kNeutralChroma, size_t(width / 2));
  return f;
}

FramePtr PictureFromI420(const SlateVideoRequest& v) {
  FramePtr f = BlankPicture(v.width, v.height);
  const uint8_t* src = v.i420.data();
  const int cw = v.width / 2, ch = v.height / 2;
  av_image_copy_plane(f->data[0], f->linesize[0], src, v.width, v.width, v.height);
  src += size_t(v.width) * size_t(v.height);
  av_image_copy_plane(f->data[1], f->linesize[1], src, cw, cw, ch);
  src += size_t(cw) * size_t(ch);
  av_image_copy_plane(f->data[2], f->linesize[2], src, cw, cw, ch);
  return f;
}

std::vector<uint8_t> ReadImageFile(const std::string& path) {
  // Non-blocking open: a FIFO must not hold this pool thread until a writer comes; anything but
  // a regular file (FIFO, device, directory) is refused before it is read.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) ImageError("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<FILE, int (*)(FILE*)> file(fdopen(fd, "rb"), &std::fclose);
  if (!file) {
    const int e = errno;
    close(fd);
    ImageError("cannot open " + path + ": " + std::strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) ImageError("cannot stat " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) ImageError(path + " is not a regular file");
  if (st.st_size > kMaxImageBytes) ImageError(path + " is larger than 64 MiB: not a slate picture");
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, file.get());
    if (n > 0) {
      if (long(bytes.size() + n) > kMaxImageBytes) ImageError(path + " is larger than 64 MiB: not a slate picture");
      bytes.insert(bytes.end(), buf, buf + n);
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(file.get())) ImageError("cannot read " + path + ": " + std::strerror(errno));
  if (bytes.empty()) ImageError(path + " is empty");
  return bytes;
}

/// Decodes a whole PNG or JPEG file (one packet: both decoders take a complete file) into a
/// frame of the decoder's own pixel format.
FramePtr DecodeImage(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadImageFile(path);
  static const uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  AVCodecID id;
  if (bytes.size() >= sizeof kPng && std::memcmp(bytes.data(), kPng, sizeof kPng) == 0) id = AV_CODEC_ID_PNG;
  else if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) id = AV_CODEC_ID_MJPEG;
  else ImageError(path + " is neither a PNG nor a JPEG file");
  const char* kind = id == AV_CODEC_ID_PNG ? "PNG" : "JPEG";

  const AVCodec* codec = avcodec_find_decoder(id);
  if (!codec) ImageError(std::string("libavcodec has no ") + kind + " decoder");
  CodecContextPtr dec(avcodec_alloc_context3(codec));
  if (!dec) throw std::bad_alloc();
  dec->thread_count = 1;
  dec->max_pixels = kMaxImagePixels;
  // What the decoder says about a bad file goes into the rejection, not to stderr: its
  // messages are demoted from ERROR to VERBOSE, below the addon's log level.
  dec->log_level_offset = AV_LOG_VERBOSE - AV_LOG_ERROR;
  int err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) ImageError(std::string("cannot open the ") + kind + " decoder: " + AvErrorText(err));
  PacketPtr pkt = MakePacket();
  if (av_new_packet(pkt.get(), int(bytes.size())) < 0) throw std::bad_alloc();
  std::memcpy(pkt->data, bytes.data(), bytes.size());
  pkt->flags |= AV_PKT_FLAG_KEY;
  FramePtr picture = MakeFrame();
  err = avcodec_send_packet(dec.get(), pkt.get());
  if (err >= 0) err = avcodec_send_packet(dec.get(), nullptr);
  if (err >= 0) err = avcodec_receive_frame(dec.get(), picture.get());
  if (err < 0)
    ImageError("cannot decode " + path + " as " + kind + ": " + AvErrorText(err) +
               (err == AVERROR(EINVAL) ? " (damaged, or larger than 7680x4320 pixels)" : ""));
  if (picture->decode_error_flags || (picture->flags & AV_FRAME_FLAG_CORRUPT))
    ImageError(path + ": the " + std::string(kind) + " decoded with errors");
  if (picture->width < 1 || picture->height < 1) ImageError(path + " decoded to an empty picture");
  return picture;
}

/// The image scaled to fit width x height with its aspect ratio kept, centred on black
/// (letterbox or pillarbox bars). The alpha channel, if any, is ignored.
FramePtr PictureFromImage(const SlateVideoRequest& v) {
  FramePtr src = DecodeImage(v.imagePath);
  const int64_t sw = src->width, sh = src->height;
  // Even sizes and offsets keep the picture on whole 4:2:0 chroma samples.
  int w, h;
  if (sw * v.height >= sh * v.width) {
    w = v.width;
    h = int(2 * std::llround(double(v.width) * double(sh) / double(sw) / 2));
  } else {
    h = v.height;
    w = int(2 * std::llround(double(v.height) * double(sw) / double(sh) / 2));
  }
  w = std::clamp(w, 2, v.width);
  h = std::clamp(h, 2, v.height);
  const int x0 = ((v.width - w) / 2) & ~1, y0 = ((v.height - h) / 2) & ~1;

  SwsContextPtr sws(sws_getContext(src->width, src->height, AVPixelFormat(src->format), w, h, AV_PIX_FMT_YUV420P,
                                   SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws) {
    const char* name = av_get_pix_fmt_name(AVPixelFormat(src->format));
    ImageError(v.imagePath + ": cannot convert pixel format " + std::string(name ? name : "?"));
  }
  // RGB converts with the BT.601 matrix to limited range (what the SPS says); a JPEG's
  // full-range YCbCr is compressed to limited range by swscale (yuvj formats are full range).
  FramePtr out = BlankPicture(v.width, v.height);
  uint8_t* dst[4] = {out->data[0] + y0 * out->linesize[0] + x0, out->data[1] + (y0 / 2) * out->linesize[1] + x0 / 2,
                     out->data[2] + (y0 / 2) * out->linesize[2] + x0 / 2, nullptr};
  const int err = sws_scale(sws.get(), src->data, src->linesize, 0, src->height, dst, out->linesize);
  if (err <= 0) ImageError(v.imagePath + ": scaling failed");
  return out;
}

// ---- encoding ------------------------------------------------------------------------------

void EncodeVideo(const SlateVideoRequest& v, int frames, SlateClip& clip, std::vector<SlateUnit>& units) {
  FramePtr picture = v.imagePath.empty() ? PictureFromI420(v) : PictureFromImage(v);

  H264EncoderSettings es;
  es.width = v.width;
  es.height = v.height;
  es.frameRate = v.frameRate;
  es.timescale = 1000;
  // Constant quality under a VBV cap: the IDR gets what a still picture needs (at most ~2 s of
  // the cap, so one IDR per 2 s GOP stays within it) and every later frame is a P-frame of
  // skipped macroblocks, a few dozen bytes.
  es.crf = 20;
  es.maxRate = int64_t(v.bitrateKbps) * 1000;
  es.bufferSize = es.maxRate * 2;
  es.profile = "main";
  es.preset = "veryfast";
  es.tune = "stillimage,zerolatency";
  es.threads = 1;
  es.colorspace = AVCOL_SPC_SMPTE170M;
  es.primaries = AVCOL_PRI_SMPTE170M;
  es.transfer = AVCOL_TRC_SMPTE170M;
  es.range = AVCOL_RANGE_MPEG;
  H264Encoder enc = OpenH264Encoder(es, "ERR_SLATE_ENCODE");

  TrackConfig t;
  t.kind = TrackKind::kVideo;
  t.id = 0;
  t.timescale = 1000;
  t.codecConfig = std::move(enc.avcC);
  t.width = v.width;
  t.height = v.height;
  t.frameRate = v.frameRate;
  clip.video = std::move(t);

  const double frameMs = 1000.0 / v.frameRate;
  picture->color_range = AVCOL_RANGE_MPEG;
  PacketPtr pkt = MakePacket();
  int received = 0;
  auto receive = [&]() {
    for (;;) {
      const int err = avcodec_receive_packet(enc.ctx.get(), pkt.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
      if (err < 0) EncodeError("libx264", err);
      SlateUnit u;
      u.trackId = 0;
      // Output order is input order (no B-frames): the received-th frame, whatever libx264 did
      // with the pts (it keeps them; this does not depend on it).
      u.timeMs = FrameTimeMs(received, frameMs);
      u.keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      u.data = AnnexBToAvcc(pkt->data, size_t(pkt->size));
      av_packet_unref(pkt.get());
      if (u.data.empty()) EncodeError("libx264 gave a packet without NAL units");
      if (++received > frames) EncodeError("libx264 gave more packets than frames");
      units.push_back(std::move(u));
    }
  };
  for (int i = 0; i < frames; i++) {
    // The same picture every frame: the encoder takes a reference (it copies into its own
    // picture), and nothing writes to these pixels again.
    picture->pts = FrameTimeMs(i, frameMs);
    picture->pict_type = i % v.gopFrames == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    const int err = avcodec_send_frame(enc.ctx.get(), picture.get());
    if (err < 0) EncodeError("avcodec_send_frame", err);
    receive();
  }
  const int err = avcodec_send_frame(enc.ctx.get(), nullptr);
  if (err < 0) EncodeError("flushing libx264", err);
  receive();
  if (received != frames)
    EncodeError("libx264 gave " + std::to_string(received) + " packets for " + std::to_string(frames) + " frames");
}

void EncodeAudio(const SlateAudioRequest& a, int frames, SlateClip& clip, std::vector<SlateUnit>& units) {
  // CheckSlateRequest has refused rates and channel counts the encoder cannot take.
  AacEncoder aac = OpenAacEncoder(a.sampleRate, a.channels, kAacBitratePerChannel * a.channels, "ERR_SLATE_ENCODE");
  AVCodecContext* c = aac.ctx.get();
  int err = 0;

  TrackConfig t;
  t.kind = TrackKind::kAudio;
  t.id = 1;
  t.timescale = 1000;
  t.codecConfig = std::move(aac.asc);
  t.sampleRate = a.sampleRate;
  t.channels = a.channels;
  clip.audio = std::move(t);

  FramePtr silence = MakeAacInputFrame(c, c->frame_size);
  av_samples_set_silence(silence->extended_data, 0, silence->nb_samples, a.channels, AVSampleFormat(silence->format));

  // The encoder's first packet is its priming frame (pts −1024); every frame of silence encodes
  // alike and decodes to silence on its own, so the loop takes the `frames` packets after it.
  // One frame more than needed is sent so the flush cannot come short.
  PacketPtr pkt = MakePacket();
  int taken = 0;
  auto receive = [&]() {
    for (;;) {
      err = avcodec_receive_packet(c, pkt.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
      if (err < 0) EncodeError("aac", err);
      if (pkt->pts >= 0 && taken < frames) {
        SlateUnit u;
        u.trackId = 1;
        u.timeMs = FrameTimeMs(taken, kAacFrameSamples * 1000.0 / a.sampleRate);
        u.keyframe = true;
        u.data.assign(pkt->data, pkt->data + pkt->size);
        if (!IsPlausibleRawAac(u.data.data(), u.data.size())) EncodeError("the AAC encoder gave an implausible frame");
        units.push_back(std::move(u));
        taken++;
      }
      av_packet_unref(pkt.get());
    }
  };
  for (int i = 0; i <= frames; i++) {
    silence->pts = int64_t(i) * kAacFrameSamples;
    err = avcodec_send_frame(c, silence.get());
    if (err < 0) EncodeError("avcodec_send_frame (aac)", err);
    receive();
  }
  err = avcodec_send_frame(c, nullptr);
  if (err < 0) EncodeError("flushing the AAC encoder", err);
  receive();
  if (taken != frames) EncodeError("the AAC encoder gave " + std::to_string(taken) + " frames for " + std::to_string(frames));
}

}  // namespace

SlateLoop PlanSlateLoop(double fps, int sampleRate, int64_t requestedMs) {
  SlateLoop loop;
  const double videoMs = fps > 0 ? 1000.0 / fps : 0;
  const double audioMs = sampleRate > 0 ? kAacFrameSamples * 1000.0 / sampleRate : 0;
  if (videoMs == 0) {
    loop.audioFrames = int(std::max<int64_t>(1, std::llround(double(requestedMs) / audioMs)));
    loop.durationMs = FrameTimeMs(loop.audioFrames, audioMs);
    return loop;
  }
  if (audioMs == 0) {
    loop.videoFrames = int(std::max<int64_t>(1, std::llround(double(requestedMs) / videoMs)));
    loop.durationMs = FrameTimeMs(loop.videoFrames, videoMs);
    return loop;
  }
  // Both: the loop is repeated at offsets r * D (D whole ms), so each track must fill D with
  // whole frames. Of the lengths D = round(N video frames) up to the limit, the nearest to the
  // request at which K AAC frames end within 0.5 ms of D: the gap at each loop boundary is then
  // within 1 ms of an AAC frame, like the gaps inside the loop (ms rounding), and the audio
  // drifts ≤ 0.5 ms a loop against its sample count. If no length fits (odd rate pairs), the
  // one that comes closest to fitting.
  constexpr double kFit = 0.5 + 1e-9;
  const int64_t limitMs = requestedMs + kMaxLoopExtensionMs;
  struct Rank {
    bool fits;
    double mismatch, distance;
    bool operator<(const Rank& o) const {
      if (fits != o.fits) return fits;
      if (fits) return distance < o.distance;
      return mismatch < o.mismatch - 1e-9 || (mismatch <= o.mismatch + 1e-9 && distance < o.distance);
    }
  };
  std::optional<Rank> best;
  for (int n = 1; double(n) * videoMs <= double(limitMs); n++) {
    const int64_t d = FrameTimeMs(n, videoMs);
    const int k = int(std::llround(double(d) / audioMs));
    if (k < 1) continue;
    const double mismatch = std::fabs(double(d) - double(k) * audioMs);
    const Rank r{mismatch <= kFit, mismatch, std::fabs(double(d - requestedMs))};
    if (!best || r < *best) {
      best = r;
      loop.videoFrames = n;
      loop.audioFrames = k;
      loop.durationMs = d;
    }
  }
  return loop;
}

void CheckSlateRequest(const SlateRequest& req) {
  if (!req.video && !req.audio) ConfigError("a slate needs video, audio or both");
  if (req.durationMs < kMinDurationMs || req.durationMs > kMaxDurationMs)
    ConfigError("durationMs out of range (" + std::to_string(kMinDurationMs) + ".." + std::to_string(kMaxDurationMs) + ")");
  if (req.video) {
    const SlateVideoRequest& v = *req.video;
    if (v.width < kMinSize || v.height < kMinSize || v.width > kMaxSize || v.height > kMaxSize || v.width % 2 || v.height % 2)
      ConfigError("video width and height must be even, within 16..4096 (got " + std::to_string(v.width) + "x" +
                  std::to_string(v.height) + ")");
    if (!std::isfinite(v.frameRate) || v.frameRate < 1 || v.frameRate > 240) ConfigError("video frameRate out of range (1..240)");
    if (v.gopFrames < 1 || v.gopFrames > 10000) ConfigError("video gopFrames out of range (1..10000)");
    if (v.bitrateKbps < 50 || v.bitrateKbps > 50000) ConfigError("video bitrateKbps out of range (50..50000)");
    const bool havePicture = !v.i420.empty(), haveImage = !v.imagePath.empty();
    if (havePicture == haveImage) ConfigError("video needs exactly one of picture (I420 bytes) and imagePath");
    const size_t want = size_t(v.width) * size_t(v.height) * 3 / 2;
    if (havePicture && v.i420.size() != want)
      ConfigError("picture must be width*height*3/2 = " + std::to_string(want) + " bytes of I420, got " + std::to_string(v.i420.size()));
    if (haveImage && v.imagePath.find('\0') != std::string::npos) ConfigError("imagePath contains a NUL byte");
  }
  if (req.audio) {
    const SlateAudioRequest& a = *req.audio;
    if (!IsAacSampleRate(a.sampleRate)) ConfigError("audio sampleRate " + std::to_string(a.sampleRate) + " is not an AAC sampling frequency");
    if (!AacLayoutFor(a.channels))
      ConfigError("audio channels must be 1..6 or 8 (got " + std::to_string(a.channels) + ")");
  }
}

SlateClip EncodeSlate(const SlateRequest& req) {
  CheckSlateRequest(req);
  const SlateLoop loop = PlanSlateLoop(req.video ? req.video->frameRate : 0, req.audio ? req.audio->sampleRate : 0, req.durationMs);
  SlateClip clip;
  clip.durationMs = loop.durationMs;
  std::vector<SlateUnit> video, audio;
  if (req.video) EncodeVideo(*req.video, loop.videoFrames, clip, video);
  if (req.audio) EncodeAudio(*req.audio, loop.audioFrames, clip, audio);
  // Interleaved by time, video first on equal times (as RTMP ingest delivers them).
  clip.units.reserve(video.size() + audio.size());
  size_t i = 0, j = 0;
  while (i < video.size() || j < audio.size()) {
    if (j == audio.size() || (i < video.size() && video[i].timeMs <= audio[j].timeMs)) clip.units.push_back(std::move(video[i++]));
    else clip.units.push_back(std::move(audio[j++]));
  }
  return clip;
}

}  // namespace sigma
