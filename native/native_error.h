// The one exception type of the addon's pure C++ parts: a stable code (surfaced to JS as
// Error.code) plus a message. Shared by the muxer and the thumbnail engine.
#pragma once

#include <stdexcept>
#include <string>

extern "C" {
#include <libavutil/error.h>
}

namespace sigma {

/// Error with a stable code, surfaced to JS as Error.code.
class NativeError : public std::runtime_error {
 public:
  NativeError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

/// libav's text for an AVERROR code.
inline std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

}  // namespace sigma
