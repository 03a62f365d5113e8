#include "thumbnail_engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "codec_config.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace sigma {
namespace {

[[noreturn]] void ConfigError(const std::string& msg) { throw NativeError("ERR_NATIVE_CONFIG", msg); }
[[noreturn]] void DecodeError(const std::string& msg, int err) {
  throw NativeError("ERR_THUMB_DECODE", err ? msg + ": " + AvErrorText(err) : msg);
}
[[noreturn]] void EncodeError(const std::string& msg, int err) {
  throw NativeError("ERR_THUMB_ENCODE", msg + ": " + AvErrorText(err));
}

/// The even height that keeps the source's aspect ratio at `width` (4:2:0 needs even sizes).
int EvenHeight(int width, int srcWidth, int srcHeight) {
  const long h = 2 * std::lround(double(width) * srcHeight / srcWidth / 2.0);
  return int(std::max(2L, h));
}

/// True when an AVCC access unit holds an IDR slice: the only pictures that decode alone.
/// (A recovery-point I picture may reference frames we never fed the decoder.)
bool HasIdrSlice(const uint8_t* p, size_t n) {
  for (size_t off = 0; off + 4 < n;) {
    const size_t len = (size_t(p[off]) << 24) | (size_t(p[off + 1]) << 16) | (size_t(p[off + 2]) << 8) | p[off + 3];
    if ((p[off + 4] & 0x1f) == 5) return true;
    off += 4 + len;
  }
  return false;
}

/// yuvj420p is what the mjpeg encoder takes; JPEG is full range.
constexpr AVPixelFormat kJpegFormat = AV_PIX_FMT_YUVJ420P;

/// The decoder's formats that are full range by name (swscale treats them so).
bool IsFullRangeFormat(int fmt) {
  return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P;
}

}  // namespace

ThumbnailEngine::ThumbnailEngine(const ThumbnailOptions& opts) : opts_(opts) {
  const std::string bad = CheckAvcC(opts.avcC.data(), opts.avcC.size());
  if (!bad.empty()) ConfigError(bad);
  if (opts.srcWidth < 16 || opts.srcHeight < 16 || opts.srcWidth > 8192 || opts.srcHeight > 8192)
    ConfigError("source width and height must be within 16..8192");
  for (int w : {opts.thumbWidth, opts.tileWidth})
    if (w < 16 || w > 4096 || w % 2) ConfigError("thumbnail and tile widths must be even, within 16..4096");
  if (opts.columns < 1 || opts.rows < 1 || opts.columns > 32 || opts.rows > 32) ConfigError("columns and rows must be within 1..32");
  if (opts.qscale < 2 || opts.qscale > 31) ConfigError("quality (qscale) must be within 2..31");
  thumbHeight_ = EvenHeight(opts.thumbWidth, opts.srcWidth, opts.srcHeight);
  tileHeight_ = EvenHeight(opts.tileWidth, opts.srcWidth, opts.srcHeight);
  // JPEG stores dimensions in 16 bits; keep sheets well inside what browsers decode.
  if (sheetWidth() > 16384 || sheetHeight() > 16384) ConfigError("sprite sheet larger than 16384 pixels");

  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (!codec) ConfigError("libavcodec has no H.264 decoder");
  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  decoder_->extradata = static_cast<uint8_t*>(av_mallocz(opts.avcC.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!decoder_->extradata) throw std::bad_alloc();
  std::memcpy(decoder_->extradata, opts.avcC.data(), opts.avcC.size());
  decoder_->extradata_size = int(opts.avcC.size());
  // One picture at a time on our own worker: decoder threads would only add frame delay.
  decoder_->thread_count = 1;
  // A damaged keyframe is an error, not a concealed picture of grey blocks in a listing.
  decoder_->err_recognition = AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER;
  int err = avcodec_open2(decoder_.get(), codec, nullptr);
  if (err < 0) ConfigError("the H.264 decoder refused the avcC: " + AvErrorText(err));
  picture_ = MakeFrame();
  scratch_ = MakeFrame();
  packet_ = MakePacket();
}

const AVFrame* ThumbnailEngine::Decode(const uint8_t* data, size_t size) {
  if (!IsWellFormedAvcc(data, size)) throw NativeError("ERR_THUMB_INPUT", "malformed AVCC framing (4-byte length-prefixed NAL units expected)");
  if (!HasIdrSlice(data, size)) throw NativeError("ERR_THUMB_INPUT", "not a keyframe: the access unit has no IDR slice");
  av_packet_unref(packet_.get());
  int err = av_new_packet(packet_.get(), int(size));
  if (err < 0) throw std::bad_alloc();
  std::memcpy(packet_->data, data, size);
  packet_->flags |= AV_PKT_FLAG_KEY;
  av_frame_unref(picture_.get());
  // Each keyframe is decoded on its own: send it, drain the decoder (its output delay, e.g.
  // for B-frame reordering, would otherwise hold the picture back), then reset it for the next.
  err = avcodec_send_packet(decoder_.get(), packet_.get());
  av_packet_unref(packet_.get());
  bool got = false;
  if (err >= 0) err = avcodec_send_packet(decoder_.get(), nullptr);
  if (err >= 0) {
    // Keep the first picture; anything further the drain yields is dropped.
    int r;
    while ((r = avcodec_receive_frame(decoder_.get(), got ? scratch_.get() : picture_.get())) >= 0) {
      if (got) av_frame_unref(scratch_.get());
      got = true;
    }
    if (r != AVERROR_EOF) err = r;
  }
  avcodec_flush_buffers(decoder_.get());
  if (err < 0) DecodeError("cannot decode the keyframe", err);
  if (!got) DecodeError("the keyframe yielded no picture", 0);
  if (picture_->decode_error_flags || (picture_->flags & AV_FRAME_FLAG_CORRUPT)) DecodeError("the keyframe decoded with errors", 0);
  if (picture_->width < 2 || picture_->height < 2) DecodeError("the keyframe decoded to an empty picture", 0);
  return picture_.get();
}

FramePtr ThumbnailEngine::Scale(SwsContextPtr& sws, const AVFrame* src, int w, int h) {
  sws.reset(sws_getCachedContext(sws.release(), src->width, src->height, AVPixelFormat(src->format), w, h, kJpegFormat,
                                 SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws) EncodeError("cannot scale from " + std::string(av_get_pix_fmt_name(AVPixelFormat(src->format)) ?: "?"), AVERROR(EINVAL));
  // A limited-range format flagged full range (some encoders do) must not be stretched again.
  const bool srcFull = IsFullRangeFormat(src->format) || src->color_range == AVCOL_RANGE_JPEG;
  int* invTable; int* table; int srcRange, dstRange, brightness, contrast, saturation;
  if (sws_getColorspaceDetails(sws.get(), &invTable, &srcRange, &table, &dstRange, &brightness, &contrast, &saturation) >= 0
      && srcRange != int(srcFull)) {
    const int cs = src->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
    sws_setColorspaceDetails(sws.get(), sws_getCoefficients(cs), srcFull, table, dstRange, brightness, contrast, saturation);
  }
  FramePtr out = MakeFrame();
  out->format = kJpegFormat;
  out->width = w;
  out->height = h;
  out->color_range = AVCOL_RANGE_JPEG;
  int err = av_frame_get_buffer(out.get(), 0);
  if (err < 0) throw std::bad_alloc();
  err = sws_scale(sws.get(), src->data, src->linesize, 0, src->height, out->data, out->linesize);
  if (err <= 0) EncodeError("scaling failed", err < 0 ? err : AVERROR(EINVAL));
  return out;
}

Jpeg ThumbnailEngine::Encode(CodecContextPtr& enc, const AVFrame* frame) {
  if (!enc || enc->width != frame->width || enc->height != frame->height) {
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) EncodeError("libavcodec has no mjpeg encoder", AVERROR_ENCODER_NOT_FOUND);
    enc.reset(avcodec_alloc_context3(codec));
    if (!enc) throw std::bad_alloc();
    enc->width = frame->width;
    enc->height = frame->height;
    enc->pix_fmt = kJpegFormat;
    enc->color_range = AVCOL_RANGE_JPEG;
    enc->time_base = AVRational{1, 25};
    enc->thread_count = 1;
    // Constant quantizer (ffmpeg's -q:v): the size follows the picture's detail.
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * opts_.qscale;
    int err = avcodec_open2(enc.get(), codec, nullptr);
    if (err < 0) {
      enc.reset();
      EncodeError("cannot open the mjpeg encoder", err);
    }
  }
  // The encoder may keep a reference to the frame it was given; hand it its own view.
  FramePtr in = MakeFrame();
  int err = av_frame_ref(in.get(), frame);
  if (err < 0) throw std::bad_alloc();
  in->quality = enc->global_quality;  // mjpeg reads the quantizer from each frame
  in->pts = pts_++;
  in->pict_type = AV_PICTURE_TYPE_I;
  err = avcodec_send_frame(enc.get(), in.get());
  if (err < 0) EncodeError("mjpeg encoding failed", err);
  Jpeg out;
  out.pkt = MakePacket();
  err = avcodec_receive_packet(enc.get(), out.pkt.get());
  if (err < 0) EncodeError("mjpeg produced no picture", err);
  out.width = frame->width;
  out.height = frame->height;
  return out;
}

Jpeg ThumbnailEngine::Thumbnail(const AVFrame* picture) {
  FramePtr scaled = Scale(thumbSws_, picture, opts_.thumbWidth, thumbHeight_);
  return Encode(thumbEnc_, scaled.get());
}

void ThumbnailEngine::ClearSheet() {
  if (!sheet_) {
    sheet_ = MakeFrame();
    sheet_->format = kJpegFormat;
    sheet_->width = sheetWidth();
    sheet_->height = sheetHeight();
    sheet_->color_range = AVCOL_RANGE_JPEG;
    if (av_frame_get_buffer(sheet_.get(), 0) < 0) throw std::bad_alloc();
  } else if (av_frame_make_writable(sheet_.get()) < 0) {
    throw std::bad_alloc();  // the encoder still held the old canvas: we now paint a copy
  }
  // Full-range black: unused cells of a sheet stay black.
  for (int y = 0; y < sheet_->height; y++) std::memset(sheet_->data[0] + size_t(y) * sheet_->linesize[0], 0, size_t(sheet_->width));
  for (int p = 1; p <= 2; p++)
    for (int y = 0; y < sheet_->height / 2; y++) std::memset(sheet_->data[p] + size_t(y) * sheet_->linesize[p], 128, size_t(sheet_->width / 2));
}

TileResult ThumbnailEngine::AddTile(const AVFrame* picture) {
  // Scale and encode the tile alone first: a failure leaves the sheet as it was. The tile's own
  // JPEG comes from the scaled frame, not cut from the sheet: JPEG cannot be cropped losslessly
  // at tile rows that are not a multiple of the 16-px MCU, and a 160x90 encode is cheap.
  FramePtr tile = Scale(tileSws_, picture, opts_.tileWidth, tileHeight_);
  Jpeg tileJpeg = Encode(tileEnc_, tile.get());
  if (sheetOrdinal_ < 0 || nextTile_ >= opts_.columns * opts_.rows) {
    ClearSheet();
    sheetOrdinal_++;
    nextTile_ = 0;
  } else if (av_frame_make_writable(sheet_.get()) < 0) {
    throw std::bad_alloc();
  }
  TileResult r;
  r.sheet = sheetOrdinal_;
  r.index = nextTile_;
  r.width = opts_.tileWidth;
  r.height = tileHeight_;
  r.x = (r.index % opts_.columns) * r.width;
  r.y = (r.index / opts_.columns) * r.height;
  // Pasted plane by plane (x, y and sizes are even, so chroma lands on whole samples).
  for (int p = 0; p < 3; p++) {
    const int shift = p == 0 ? 0 : 1;
    av_image_copy_plane(sheet_->data[p] + size_t(r.y >> shift) * sheet_->linesize[p] + size_t(r.x >> shift),
                        sheet_->linesize[p], tile->data[p], tile->linesize[p], r.width >> shift, r.height >> shift);
  }
  // The sheet as far as it is filled: the rows used so far (fewer pixels to encode and send).
  FramePtr view = MakeFrame();
  if (av_frame_ref(view.get(), sheet_.get()) < 0) throw std::bad_alloc();
  const int rowsUsed = r.index / opts_.columns + 1;
  view->height = rowsUsed * r.height;
  r.sheetJpeg = Encode(sheetEnc_, view.get());
  r.tileJpeg = std::move(tileJpeg);
  nextTile_++;
  return r;
}

}  // namespace sigma
