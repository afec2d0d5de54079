// The one way the bindings read JS arguments: counts, numbers and typed arrays, each with the
// package's message format "Expected <what> for <name> of <fn> but received <value>".
//
// Memory rule (issue 11): a pointer into a JS typed array is valid only until JavaScript runs
// again. A caller may resize a resizable ArrayBuffer, detach it (transfer, structuredClone /
// postMessage with a transfer list) or, for a SharedArrayBuffer, write to it from another
// thread at any time. So:
//  - an async entry point copies every array it reads into native memory at submission
//    (ArrayArg with Copy::kAlways) before it returns its Promise;
//  - a sync entry point may borrow the caller's memory (Copy::kIfShared) but reads every
//    object property (which can run getters) BEFORE it reads any typed array, and copies
//    arrays backed by a SharedArrayBuffer, which another thread may change under it;
//  - results are native memory until they are handed to JavaScript.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "bindings/copy_pool.h"

namespace lwfm {

inline std::string Describe(const Napi::Value& v) {
  if (v.IsNumber()) return v.ToString().Utf8Value() + " of type number";
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array:
        return "Float32Array";
      case napi_int32_array:
        return "Int32Array";
      case napi_uint8_array:
        return "Uint8Array";
      default:
        return "typed array of another element type";
    }
  }
  if (v.IsArray()) return "array";
  if (v.IsBoolean()) return "value of type boolean";
  return std::string("value of type ") + (v.IsString() ? "string" : v.IsObject() ? "object" : "other");
}

// "Expected <what> for <name> of <fn> but received <received>".
inline std::string ExpectedMessage(const std::string& what, const std::string& name, const char* fn,
                                   const std::string& received) {
  return "Expected " + what + " for " + name + " of " + fn + " but received " + received;
}

inline Napi::Error ArgTypeError(Napi::Env env, const std::string& what, const std::string& name, const char* fn,
                                const Napi::Value& v) {
  return Napi::TypeError::New(env, ExpectedMessage(what, name, fn, Describe(v)));
}

inline Napi::Error ArgRangeError(Napi::Env env, const std::string& what, const std::string& name, const char* fn,
                                 const std::string& received) {
  return Napi::RangeError::New(env, ExpectedMessage(what, name, fn, received));
}

// An integer in [min, max] (TypeError if not a number, RangeError otherwise).
inline int64_t ReadInteger(const Napi::Value& v, const std::string& name, const char* fn, int64_t min, int64_t max) {
  if (!v.IsNumber()) throw ArgTypeError(v.Env(), "integer", name, fn, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < double(min) || d > double(max)) {
    throw ArgRangeError(v.Env(), "integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]", name, fn,
                        Describe(v));
  }
  return int64_t(d);
}

inline int64_t ReadCount(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn, int64_t min,
                         int64_t max) {
  return ReadInteger(info[k], name, fn, min, max);
}

// A finite number (the native side's only numeric promise; ranges are the TypeScript layer's).
inline double ReadFinite(const Napi::Value& v, const std::string& name, const char* fn) {
  if (!v.IsNumber()) throw ArgTypeError(v.Env(), "number", name, fn, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw ArgRangeError(v.Env(), "finite number", name, fn, Describe(v));
  return d;
}

// An optional boolean (undefined -> fallback).
inline bool ReadFlag(const Napi::Value& v, const std::string& name, const char* fn, bool fallback) {
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw ArgTypeError(v.Env(), "boolean", name, fn, v);
  return v.As<Napi::Boolean>().Value();
}

template <typename T>
struct ArrayKind;
template <>
struct ArrayKind<float> {
  static constexpr napi_typedarray_type kType = napi_float32_array;
  static constexpr const char* kName = "Float32Array";
};
template <>
struct ArrayKind<int32_t> {
  static constexpr napi_typedarray_type kType = napi_int32_array;
  static constexpr const char* kName = "Int32Array";
};
template <>
struct ArrayKind<uint8_t> {
  static constexpr napi_typedarray_type kType = napi_uint8_array;
  static constexpr const char* kName = "Uint8Array";
};

enum class Copy {
  kIfShared,  // borrow the caller's memory (sync use, no JS in between) unless it is shared
  kAlways,    // native copy: the caller may do anything to its array afterwards (async use)
};

// A typed-array argument: the caller's memory (borrowed) or a native copy (owned).
template <typename T>
class ArrayArg {
 public:
  ArrayArg() = default;
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool owned() const { return owned_ != nullptr; }

  // Reads v as a typed array of T; copies per `copy` (see the memory rule above).
  static ArrayArg Read(const Napi::Value& v, const std::string& name, const char* fn, Copy copy) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<T>::kType)
      throw ArgTypeError(v.Env(), ArrayKind<T>::kName, name, fn, v);
    Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
    ArrayArg out;
    out.size_ = a.ElementLength();
    out.data_ = a.Data();
    // A SharedArrayBuffer's typed array has a buffer that napi_is_arraybuffer rejects.
    if (copy == Copy::kAlways || !a.ArrayBuffer().IsArrayBuffer()) out.TakeCopy();
    return out;
  }

  // Copies the borrowed memory into native memory (no-op when already owned). The block comes
  // uninitialised from the CopyPool: one pass over the memory (the copy), mostly warm pages.
  void TakeCopy() {
    if (owned_) return;
    size_t capacity = 0;
    void* block = CopyPool::Instance().Acquire(size_ * sizeof(T), &capacity);
    owned_ = std::unique_ptr<T, Release>(static_cast<T*>(block), Release{capacity});
    if (size_ != 0) std::memcpy(block, data_, size_ * sizeof(T));
    data_ = owned_.get();
  }

 private:
  struct Release {
    size_t capacity = 0;
    void operator()(T* p) const { CopyPool::Instance().Release(p, capacity); }
  };
  const T* data_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<T, Release> owned_;
};

inline ArrayArg<float> ReadFloat32(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn,
                                   Copy copy) {
  return ArrayArg<float>::Read(info[k], name, fn, copy);
}

// A Float32Array whose length is exactly `want` (described as `what`, e.g. "batch * rows * cols").
inline void ExpectLength(Napi::Env env, size_t length, double want, const std::string& what, const std::string& name,
                         const char* fn) {
  if (double(length) != want) {
    throw ArgRangeError(env, "typed array of length " + what + " = " + std::to_string(int64_t(want)), name, fn,
                        "length " + std::to_string(length));
  }
}

}  // namespace lwfm
