#include "opus_to_aac.h"

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

namespace sigma {
namespace {

// The longest Opus packet (RFC 6716 §3.2.5: 120 ms): the resampler's output buffer starts this large.
constexpr int kMaxOpusPacketSamples = OpusToAac::kSampleRate * 120 / 1000;

[[noreturn]] void ConfigError(const std::string& msg, int err = 0) {
  throw NativeError("ERR_NATIVE_CONFIG", err ? msg + ": " + AvErrorText(err) : msg);
}
[[noreturn]] void DecodeError(const std::string& msg, int err = 0) {
  throw NativeError("ERR_AUDIO_DECODE", err ? msg + ": " + AvErrorText(err) : msg);
}
[[noreturn]] void EncodeError(const std::string& msg, int err = 0) {
  throw NativeError("ERR_AUDIO_ENCODE", err ? msg + ": " + AvErrorText(err) : msg);
}

}  // namespace

OpusToAac::OpusToAac(const OpusToAacOptions& o) : outputChannels_(o.outputChannels) {
  if (o.inputChannels < 1 || o.inputChannels > 2) ConfigError("inputChannels must be 1 or 2");
  if (o.outputChannels < 1 || o.outputChannels > 2) ConfigError("outputChannels must be 1 or 2");

  // By name: with libopus in the build, the codec id alone could pick either decoder.
  const AVCodec* opus = avcodec_find_decoder_by_name("opus");
  if (!opus || opus->id != AV_CODEC_ID_OPUS) ConfigError("libavcodec has no native opus decoder");
  dec_.reset(avcodec_alloc_context3(opus));
  if (!dec_) throw std::bad_alloc();
  AVCodecContext* d = dec_.get();
  // No extradata (WebRTC sends no OpusHead): the decoder then takes the channel count from the
  // context (1 or 2, family 0 mapping) and no pre-skip, which is right for RTP.
  d->sample_rate = kSampleRate;
  av_channel_layout_default(&d->ch_layout, o.inputChannels);
  d->thread_count = 1;
  // What the decoder says about a bad packet goes into the error event, not to stderr.
  d->log_level_offset = AV_LOG_VERBOSE - AV_LOG_ERROR;
  int err = avcodec_open2(d, opus, nullptr);
  if (err < 0) ConfigError("cannot open the opus decoder", err);

  enc_ = OpenAacEncoder(kSampleRate, o.outputChannels, o.bitrate, "ERR_NATIVE_CONFIG");
  AVCodecContext* e = enc_.ctx.get();  // not const: FFmpeg 5.1's swr_alloc_set_opts2 takes mutable layouts

  SwrContext* swr = nullptr;
  err = swr_alloc_set_opts2(&swr, &e->ch_layout, e->sample_fmt, e->sample_rate, &d->ch_layout, d->sample_fmt,
                            d->sample_rate, 0, nullptr);
  swr_.reset(swr);
  if (err < 0) ConfigError("cannot set up the resampler", err);
  if (o.inputChannels != o.outputChannels) {
    // A centred source (a mono microphone; L = R) keeps its level across the change, as browsers
    // play a mono track: swresample's default (-3 dB each way) would make an upmix quieter and a
    // downmix of L = R 3 dB louder, past full scale for a loud voice. Rows are outputs.
    static const double kMonoToStereo[] = {1.0, 1.0}, kStereoToMono[] = {0.5, 0.5};
    err = o.inputChannels == 1 ? swr_set_matrix(swr, kMonoToStereo, 1) : swr_set_matrix(swr, kStereoToMono, 2);
    if (err < 0) ConfigError("cannot set the channel mix", err);
  }
  err = swr_init(swr);
  if (err < 0) ConfigError("cannot open the resampler", err);

  fifo_.reset(av_audio_fifo_alloc(e->sample_fmt, o.outputChannels, 2 * kAacFrameSamples));
  if (!fifo_) throw std::bad_alloc();
  pkt_ = MakePacket();
  converted_ = MakeAacInputFrame(e, kMaxOpusPacketSamples);
  encFrame_ = MakeAacInputFrame(e, kAacFrameSamples);
  silence_ = MakeAacInputFrame(e, kAacFrameSamples);
  av_samples_set_silence(silence_->extended_data, 0, kAacFrameSamples, o.outputChannels, e->sample_fmt);
  // The encoder's first packet covers its delay (pts -1024 from the first frame's): dropped, so
  // the first frame out has the first input's pts. Each later packet has its own frame's pts.
  primingLeft_ = e->initial_padding;
}

void OpusToAac::Push(const uint8_t* data, size_t size, int64_t pts, std::vector<AacFrame>& out) {
  if (finished_) EncodeError("the transcoder is finished");
  // Decode first: a refused packet leaves the timeline alone (its span becomes the next one's gap).
  Decode(data, size);
  if (!started_) {
    started_ = true;
    fifoPts_ = pts;
  }
  const int64_t delta = pts - (fifoPts_ + av_audio_fifo_size(fifo_.get()));
  int64_t skip = 0;
  if (delta >= kRebaseAhead || delta < -kRebaseBehind) {
    // Not a gap to bridge (a long pause, a restarted sender): the old timeline ends here.
    PadAndFlushFifo(out);
    fifoPts_ = pts;
  } else if (delta > kGapTolerance) {
    // Lost packets or DTX: silence keeps the AAC timeline continuous and locked to the input.
    AppendSilence(delta, out);
    silenceSamples_ += uint64_t(delta);
  } else if (delta < -kGapTolerance) {
    // Late (reordered or repeated): its start is on the timeline already, as audio or as silence.
    skip = -delta;
  }
  // Within the tolerance the samples go on as they are: a few samples of jitter are not worth a click.
  for (const FramePtr& f : decoded_) {
    Append(f.get(), skip, out);
    skip = std::max<int64_t>(0, skip - f->nb_samples);
  }
  decoded_.clear();
}

void OpusToAac::Finish(std::vector<AacFrame>& out) {
  if (finished_) return;
  finished_ = true;
  PadAndFlushFifo(out);
  Send(nullptr, out);
}

void OpusToAac::Decode(const uint8_t* data, size_t size) {
  decoded_.clear();
  av_packet_unref(pkt_.get());
  if (av_new_packet(pkt_.get(), int(size)) < 0) throw std::bad_alloc();
  std::memcpy(pkt_->data, data, size);
  int err = avcodec_send_packet(dec_.get(), pkt_.get());
  av_packet_unref(pkt_.get());
  const AVCodecContext* d = dec_.get();
  while (err >= 0) {
    FramePtr f = MakeFrame();
    err = avcodec_receive_frame(dec_.get(), f.get());
    if (err == AVERROR(EAGAIN)) {
      err = 0;
      break;
    }
    if (err < 0) break;
    // The resampler was set up for what the decoder said at open; anything else cannot be converted.
    if (f->format != d->sample_fmt || f->sample_rate != kSampleRate || f->ch_layout.nb_channels != d->ch_layout.nb_channels) {
      decoded_.clear();
      DecodeError("the opus decoder changed its output format");
    }
    decoded_.push_back(std::move(f));
  }
  if (err < 0) {
    decoded_.clear();
    avcodec_flush_buffers(dec_.get());  // nothing of the bad packet stays for the next
    DecodeError("undecodable Opus packet (" + std::to_string(size) + " bytes)", err);
  }
}

void OpusToAac::Append(const AVFrame* decoded, int64_t skip, std::vector<AacFrame>& out) {
  const int cap = swr_get_out_samples(swr_.get(), decoded->nb_samples);
  if (cap < 0) EncodeError("resampler", cap);
  if (cap > converted_->nb_samples) converted_ = MakeAacInputFrame(enc_.ctx.get(), cap);
  const int got = swr_convert(swr_.get(), converted_->extended_data, cap,
                              const_cast<const uint8_t**>(decoded->extended_data), decoded->nb_samples);
  if (got < 0) EncodeError("resampling", got);
  if (skip >= got) return;
  // Planar (fltp): the kept part of each channel starts `skip` samples in.
  const size_t offset = size_t(skip) * size_t(av_get_bytes_per_sample(AVSampleFormat(converted_->format)));
  void* planes[2];
  for (int ch = 0; ch < outputChannels_; ch++) planes[ch] = converted_->extended_data[ch] + offset;
  const int n = got - int(skip);
  if (av_audio_fifo_write(fifo_.get(), planes, n) != n) throw std::bad_alloc();
  EncodeReady(out);
}

void OpusToAac::AppendSilence(int64_t samples, std::vector<AacFrame>& out) {
  // A frame's worth at a time, so a 2 s gap never holds 2 s in the fifo.
  while (samples > 0) {
    const int n = int(std::min<int64_t>(samples, kAacFrameSamples));
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(silence_->extended_data), n) != n) throw std::bad_alloc();
    EncodeReady(out);
    samples -= n;
  }
}

void OpusToAac::PadAndFlushFifo(std::vector<AacFrame>& out) {
  const int held = av_audio_fifo_size(fifo_.get());
  if (held > 0) AppendSilence(kAacFrameSamples - held, out);
}

void OpusToAac::EncodeReady(std::vector<AacFrame>& out) {
  while (av_audio_fifo_size(fifo_.get()) >= kAacFrameSamples) {
    // The encoder copies its input, but a reference it kept would make the buffer shared.
    if (av_frame_make_writable(encFrame_.get()) < 0) throw std::bad_alloc();
    if (av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(encFrame_->extended_data), kAacFrameSamples) != kAacFrameSamples)
      EncodeError("the sample fifo came short");
    encFrame_->pts = fifoPts_;
    fifoPts_ += kAacFrameSamples;
    Send(encFrame_.get(), out);
  }
}

void OpusToAac::Send(const AVFrame* frame, std::vector<AacFrame>& out) {
  AVCodecContext* e = enc_.ctx.get();
  int err = avcodec_send_frame(e, frame);
  if (err < 0) EncodeError("avcodec_send_frame (aac)", err);
  for (;;) {
    err = avcodec_receive_packet(e, pkt_.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
    if (err < 0) EncodeError("aac", err);
    if (primingLeft_ > 0) {
      primingLeft_ -= kAacFrameSamples;
    } else {
      AacFrame f;
      f.pts = pkt_->pts;
      f.data.assign(pkt_->data, pkt_->data + pkt_->size);
      out.push_back(std::move(f));
    }
    av_packet_unref(pkt_.get());
  }
}

}  // namespace sigma
