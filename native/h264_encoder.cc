#include "h264_encoder.h"

#include <algorithm>
#include <climits>

#include "codec_config.h"
#include "native_error.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace sigma {

H264Encoder OpenH264Encoder(const H264EncoderSettings& s, const std::string& errorCode) {
  const AVCodec* x264 = avcodec_find_encoder_by_name("libx264");
  if (!x264) throw NativeError(errorCode, "libavcodec has no libx264 encoder");
  H264Encoder e;
  e.ctx.reset(avcodec_alloc_context3(x264));
  if (!e.ctx) throw std::bad_alloc();
  AVCodecContext* c = e.ctx.get();
  c->width = s.width;
  c->height = s.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{1, s.timescale};
  c->framerate = av_d2q(s.frameRate, 1001000);
  c->bit_rate = s.bitrate;
  c->rc_max_rate = s.maxRate;
  c->rc_buffer_size = int(std::min<int64_t>(INT_MAX, s.bufferSize));
  // No B-frames: output order is input order, so each packet keeps the timestamp of the frame it
  // came from and dts == pts.
  c->max_b_frames = 0;
  c->gop_size = -1;  // keyframes only where forced (keyint=infinite below)
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // SPS/PPS once, for the avcC of the init segment
  c->thread_count = s.threads;
  c->colorspace = s.colorspace;
  c->color_primaries = s.primaries;
  c->color_trc = s.transfer;
  c->color_range = s.range;
  AVDictionary* d = nullptr;
  av_dict_set(&d, "preset", s.preset.c_str(), 0);
  if (!s.tune.empty()) av_dict_set(&d, "tune", s.tune.c_str(), 0);
  av_dict_set(&d, "profile", s.profile.c_str(), 0);
  if (s.bitrate == 0) av_dict_set_int(&d, "crf", s.crf, 0);
  av_dict_set(&d, "forced-idr", "1", 0);    // a forced keyframe is an IDR: segments start decodable
  av_dict_set(&d, "sc_threshold", "0", 0);  // no keyframe of its own at scene cuts
  av_dict_set(&d, "x264-params", "keyint=infinite:open-gop=0", 0);
  const int err = avcodec_open2(c, x264, &d);
  av_dict_free(&d);
  if (err < 0) throw NativeError(errorCode, "cannot open libx264: " + AvErrorText(err));
  e.avcC = AvcCFromAnnexB(c->extradata, size_t(std::max(0, c->extradata_size)));
  if (e.avcC.empty()) throw NativeError(errorCode, "libx264 gave no SPS/PPS");
  return e;
}

}  // namespace sigma
