// Pictures of one channel's source: decodes single H.264 keyframes, scales them, and encodes
// JPEG thumbnails and scrubbing-preview sprite sheets. Pure C++ over libavcodec/libswscale;
// knows nothing about N-API or threads. The Thumbnailer runs one of these on its worker.
#pragma once

#include <cstdint>
#include <vector>

#include "av_raii.h"
#include "native_error.h"

namespace sigma {

struct ThumbnailOptions {
  std::vector<uint8_t> avcC;   // AVCDecoderConfigurationRecord of the source
  int srcWidth = 0, srcHeight = 0;
  int thumbWidth = 320;        // periodic thumbnail width; height follows the aspect ratio
  int tileWidth = 160;         // preview tile width
  int columns = 10, rows = 10; // tiles per sprite sheet
  int qscale = 4;              // JPEG quantizer (2 best .. 31 worst), as ffmpeg's -q:v
};

/// One encoded JPEG; the packet owns the bytes (handed to JS without a copy).
struct Jpeg {
  PacketPtr pkt;
  int width = 0, height = 0;
};

/// Where a tile landed, the tile alone, and the sheet as it is now (re-encoded with the new tile).
struct TileResult {
  int64_t sheet = 0;  // ordinal of the sheet within this engine, from 0
  int index = 0;      // tile index within the sheet, row-major
  int x = 0, y = 0, width = 0, height = 0;
  Jpeg tileJpeg;      // the tile as a JPEG of its own (one segment of the live image playlist)
  Jpeg sheetJpeg;     // covers the rows used so far (a partial sheet is cropped, not padded)
};

class ThumbnailEngine {
 public:
  /// Validates the options and opens the decoder. Throws NativeError ERR_NATIVE_CONFIG.
  explicit ThumbnailEngine(const ThumbnailOptions& opts);
  ThumbnailEngine(const ThumbnailEngine&) = delete;
  ThumbnailEngine& operator=(const ThumbnailEngine&) = delete;

  /// Decodes one keyframe access unit (AVCC framing) into a picture valid until the next
  /// call. Throws NativeError ERR_THUMB_INPUT (malformed, not an IDR) or ERR_THUMB_DECODE.
  const AVFrame* Decode(const uint8_t* data, size_t size);

  /// The picture scaled to the thumbnail size, as JPEG. Throws NativeError ERR_THUMB_ENCODE.
  Jpeg Thumbnail(const AVFrame* picture);

  /// Encodes the picture as a tile JPEG of its own, pastes it as the next tile of the current
  /// sheet (a full sheet starts a new one) and re-encodes the sheet. Throws NativeError
  /// ERR_THUMB_ENCODE; the sheet is left as it was when the tile itself fails.
  TileResult AddTile(const AVFrame* picture);

  int thumbHeight() const { return thumbHeight_; }
  int tileHeight() const { return tileHeight_; }
  int sheetWidth() const { return opts_.columns * opts_.tileWidth; }
  int sheetHeight() const { return opts_.rows * tileHeight_; }

 private:
  /// Scales `src` into a fresh yuvj420p frame of w x h through `sws` (kept between calls).
  FramePtr Scale(SwsContextPtr& sws, const AVFrame* src, int w, int h);
  /// Encodes a yuvj420p frame as JPEG, (re)opening `enc` when the size changes.
  Jpeg Encode(CodecContextPtr& enc, const AVFrame* frame);
  void ClearSheet();

  ThumbnailOptions opts_;
  int thumbHeight_ = 0, tileHeight_ = 0;
  CodecContextPtr decoder_;
  FramePtr picture_, scratch_;
  PacketPtr packet_;
  SwsContextPtr thumbSws_, tileSws_;
  CodecContextPtr thumbEnc_, tileEnc_, sheetEnc_;
  FramePtr sheet_;             // the sheet canvas, all rows
  int64_t sheetOrdinal_ = -1;  // no sheet yet
  int nextTile_ = 0;
  int64_t pts_ = 0;
};

}  // namespace sigma
