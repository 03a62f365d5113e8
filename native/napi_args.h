// Reading constructor options and method arguments from JS and building coded errors: shared by
// every N-API class of the addon, so each one reports a bad option the same way (Error.code
// ERR_NATIVE_CONFIG) and checks the bytes handed to its write/push method the same way.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace sigma {

/// Number.MAX_SAFE_INTEGER: JS numbers beyond it are not exact integers.
constexpr double kMaxSafeInteger = 9007199254740991.0;

inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void ThrowConfig(Napi::Env env, const std::string& message) {
  throw CodedError(env, "ERR_NATIVE_CONFIG", message);
}

/// o[key] as a finite number; `fallback` when absent and not required.
inline double GetNumber(Napi::Env env, const Napi::Object& o, const char* key, bool required, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return fallback;
  if (!v.IsNumber()) ThrowConfig(env, std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowConfig(env, std::string(key) + " must be finite");
  return d;
}

/// o[key] as an exact integer; `fallback` when absent and not required.
inline int64_t GetInteger(Napi::Env env, const Napi::Object& o, const char* key, bool required, int64_t fallback) {
  double d = GetNumber(env, o, key, required, double(fallback));
  if (d != std::floor(d) || std::fabs(d) > kMaxSafeInteger) ThrowConfig(env, std::string(key) + " must be an integer");
  return int64_t(d);
}

/// o[key] as an integer in [lo, hi]; `fallback` when absent and not required.
inline int GetIntIn(Napi::Env env, const Napi::Object& o, const char* key, int lo, int hi, bool required, int fallback) {
  int64_t v = GetInteger(env, o, key, required, fallback);
  if (v < lo || v > hi) ThrowConfig(env, std::string(key) + " out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return int(v);
}

/// o[key] as a Buffer/Uint8Array, copied.
inline std::vector<uint8_t> GetBytes(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowConfig(env, std::string(key) + " must be a Buffer");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ElementLength());
}

/// Bytes of a JS Buffer/Uint8Array seen in place, not copied: valid only during the current
/// call, since the caller may reuse or drop its Buffer as soon as the method returns.
struct ByteView {
  const uint8_t* data;
  size_t size;
};

/// v as a non-empty Buffer/Uint8Array of at most maxBytes; nullopt for anything else (another
/// type, another TypedArray, empty, too large). Returns rather than throws: the write/push
/// methods drop and count a malformed packet instead of stopping a live stream with an exception.
inline std::optional<ByteView> GetBytesArg(const Napi::Value& v, size_t maxBytes) {
  if (!v.IsTypedArray()) return std::nullopt;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return std::nullopt;
  Napi::Uint8Array a = ta.As<Napi::Uint8Array>();
  const size_t size = a.ElementLength();
  if (size == 0 || size > maxBytes) return std::nullopt;
  return ByteView{a.Data(), size};
}

/// Copies bytes into out (the queue owns its copy, the worker reads it after the call returns);
/// false when out of memory, so the caller drops the packet like any other it cannot take.
inline bool CopyBytes(const ByteView& bytes, std::vector<uint8_t>& out) noexcept {
  try {
    out.assign(bytes.data, bytes.data + bytes.size);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

}  // namespace sigma
