#include "aac_encoder.h"

#include <algorithm>
#include <iterator>

#include "codec_config.h"
#include "native_error.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/common.h>
}

namespace sigma {

uint64_t AacLayoutFor(int channels) {
  static const uint64_t kLayouts[] = {
      AV_CH_LAYOUT_MONO,    AV_CH_LAYOUT_STEREO,       AV_CH_LAYOUT_SURROUND,      AV_CH_LAYOUT_4POINT0,
      AV_CH_LAYOUT_5POINT0_BACK, AV_CH_LAYOUT_5POINT1_BACK, AV_CH_LAYOUT_7POINT1,
  };
  for (uint64_t mask : kLayouts)
    if (av_popcount64(mask) == channels) return mask;
  return 0;
}

bool IsAacSampleRate(int rate) {
  static const int kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000};
  return std::find(std::begin(kRates), std::end(kRates), rate) != std::end(kRates);
}

AacEncoder OpenAacEncoder(int sampleRate, int channels, int64_t bitrate, const std::string& errorCode) {
  auto fail = [&](const std::string& msg, int err = 0) {
    throw NativeError(errorCode, err ? msg + ": " + AvErrorText(err) : msg);
  };
  const AVCodec* aac = avcodec_find_encoder_by_name("aac");
  if (!aac) fail("libavcodec has no aac encoder");
  const uint64_t layout = AacLayoutFor(channels);
  if (!layout) fail("the AAC encoder has no layout for " + std::to_string(channels) + " channels");
  AacEncoder e;
  e.ctx.reset(avcodec_alloc_context3(aac));
  if (!e.ctx) throw std::bad_alloc();
  AVCodecContext* c = e.ctx.get();
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  c->sample_rate = sampleRate;
  c->time_base = AVRational{1, sampleRate};
  c->bit_rate = bitrate;
  c->profile = FF_PROFILE_AAC_LOW;
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  c->thread_count = 1;
  if (av_channel_layout_from_mask(&c->ch_layout, layout) < 0) fail("no channel layout for " + std::to_string(channels) + " channels");
  const int err = avcodec_open2(c, aac, nullptr);
  if (err < 0) fail("cannot open the AAC encoder", err);
  if (c->frame_size != kAacFrameSamples) fail("the AAC encoder's frame size is not 1024");
  e.asc.assign(c->extradata, c->extradata + std::max(0, c->extradata_size));
  AudioSpecificConfigInfo info;
  const std::string bad = CheckAudioSpecificConfig(e.asc.data(), e.asc.size(), &info);
  if (!bad.empty()) fail("the AAC encoder gave an unusable AudioSpecificConfig: " + bad);
  return e;
}

FramePtr MakeAacInputFrame(const AVCodecContext* enc, int samples) {
  FramePtr f = MakeFrame();
  f->format = enc->sample_fmt;
  f->nb_samples = samples;
  f->sample_rate = enc->sample_rate;
  if (av_channel_layout_copy(&f->ch_layout, &enc->ch_layout) < 0) throw std::bad_alloc();
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  return f;
}

}  // namespace sigma
