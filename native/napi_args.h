// Reading constructor options from JS and building coded errors: shared by every N-API class
// of the addon, so each one reports a bad option the same way (Error.code ERR_NATIVE_CONFIG).
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
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

}  // namespace sigma
