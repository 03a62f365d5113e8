// Reporting a repeating problem without flooding the JS log: the first occurrence goes out,
// then at most one per interval. Shared by the ABR ladder and the audio transcoder.
#pragma once

#include <chrono>

namespace sigma {

/// Reports a repeating problem once, then at most every `every`. Not thread-safe: one owner thread.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::steady_clock::duration every = std::chrono::seconds(10)) : every_(every) {}

  bool Due() {
    const auto now = std::chrono::steady_clock::now();
    if (reported_ && now - last_ < every_) return false;
    reported_ = true;
    last_ = now;
    return true;
  }

 private:
  std::chrono::steady_clock::duration every_;
  bool reported_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace sigma
