// The plain-PNG decoder (image/png_decode.h) on libuv's pool:
// - decodePng(bytes, maxPixels) resolves { rgb, width, height };
// - decodePngBatch(images, maxPixels, spec) decodes and also does the preprocessing of
//   core/pil_resize.h, for a whole batch in one job,
//   on every core (core/thread_pool.h), and resolves { floats, decoded }: image i's floats at
//   i * 3 * S * S, decoded[i] = 1, or 0 (and zeros) where it was declined or null. One job per
//   batch instead of one per image: the backbone workers decode between ONNX Runtime runs,
//   and per-image round trips through the event loop left a core idle for most of that time.
// A file the decoder declines gives undefined / 0 (the caller then decodes it with sharp). The
// bytes are copied first, and results are written into arrays JavaScript cannot reach until the
// promise settles, so nothing the caller does meanwhile can make a pool thread touch freed memory.
#include <napi.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <new>
#include <cstdint>
#include <vector>

#include "bindings/arg_readers.h"
#include "bindings/preprocess_spec_reader.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/pil_resize.h"
#include "core/thread_pool.h"
#include "image/png_decode.h"

namespace lwfm {
namespace {

// sharp's own ceiling for limitInputPixels (0x3FFF squared): nothing larger is ever asked for.
constexpr int64_t kMaxPixels = int64_t(0x3fff) * 0x3fff;

class DecodePngWorker : public PromiseWorker {
 public:
  DecodePngWorker(Napi::Env env, ArrayArg<uint8_t> bytes, uint64_t max_pixels)
      : PromiseWorker(env, "lwfm:decodePng"), bytes_(std::move(bytes)), max_pixels_(max_pixels) {}

 protected:
  void Run() override { decoded_ = DecodePlainPng(bytes_.data(), bytes_.size(), max_pixels_, &image_); }
  Napi::Value Settle(Napi::Env env) override {
    if (!decoded_) return env.Undefined();
    Napi::Uint8Array rgb = Napi::Uint8Array::New(env, image_.rgb.size());
    std::copy(image_.rgb.begin(), image_.rgb.end(), rgb.Data());
    Napi::Object result = Napi::Object::New(env);
    result.Set("rgb", rgb);
    result.Set("width", Napi::Number::New(env, image_.width));
    result.Set("height", Napi::Number::New(env, image_.height));
    return result;
  }

 private:
  ArrayArg<uint8_t> bytes_;
  uint64_t max_pixels_;
  DecodedRgb image_;
  bool decoded_ = false;
};

// Estimated decode memory one batch job has in flight at most: its images decode on every core,
// so without it the peak would grow with the core count (a 16-image job of 16 MP PNGs on 32
// cores: 2.5 GB). An image estimated above the budget decodes alone.
constexpr uint64_t kBatchDecodeBudgetBytes = uint64_t(256) << 20;

// Admits work while the estimated bytes in flight stay within `cap` (or nothing else is in flight).
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t cap) : cap_(cap) {}
  void Acquire(uint64_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    freed_.wait(lock, [&] { return in_flight_ == 0 || in_flight_ + bytes <= cap_; });
    in_flight_ += bytes;
  }
  void Release(uint64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_ -= bytes;
    }
    freed_.notify_all();
  }

 private:
  const uint64_t cap_;
  uint64_t in_flight_ = 0;
  std::mutex mutex_;
  std::condition_variable freed_;
};

class DecodePngBatchWorker : public PromiseWorker {
 public:
  DecodePngBatchWorker(Napi::Env env, std::vector<ArrayArg<uint8_t>> images, uint64_t max_pixels, PreprocessSpec spec)
      : PromiseWorker(env, "lwfm:decodePngBatch"), images_(std::move(images)), max_pixels_(max_pixels), spec_(spec) {
    const size_t n = images_.size();
    Napi::Float32Array floats = Napi::Float32Array::New(env, n * PerImage());
    Napi::Uint8Array decoded = Napi::Uint8Array::New(env, n);
    floats_ = floats.Data();
    decoded_ = decoded.Data();
    floats_ref_ = Napi::Persistent(static_cast<Napi::Object>(floats));
    decoded_ref_ = Napi::Persistent(static_cast<Napi::Object>(decoded));
  }

 protected:
  void Run() override {
    ParallelFor(images_.size(), 0, 1, [this](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const ArrayArg<uint8_t>& bytes = images_[i];
        if (bytes.size() == 0) continue;
        const uint64_t cost = EstimatedBytes(bytes);
        budget_.Acquire(cost);
        try {
          DecodedRgb image;
          if (DecodePlainPng(bytes.data(), bytes.size(), max_pixels_, &image)) {
            PreprocessRgb(image.rgb.data(), image.width, image.height, spec_, floats_ + i * PerImage());
            decoded_[i] = 1;
          }
        } catch (const std::bad_alloc&) {
          // This image alone did not fit: it is left to sharp (one at a time there), the others
          // of the batch keep their results.
        } catch (...) {
          budget_.Release(cost);
          throw;
        }
        budget_.Release(cost);
      }
    });
  }
  Napi::Value Settle(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("floats", floats_ref_.Value());
    result.Set("decoded", decoded_ref_.Value());
    return result;
  }

 private:
  size_t PerImage() const { return size_t(3) * spec_.crop * spec_.crop; }

  // Upper bound of what decoding and preprocessing one image allocates, from its header: the
  // inflated rows (at most 4 bytes per pixel plus a filter byte per row), the RGB image, and
  // PreprocessRgb's filter weights and intermediate rows. Tiny for dataset images; for a large
  // or oddly shaped one it is what the budget below must count (a 2 KB PNG may declare
  // 16,000,000 x 1 pixels: 250 MB of weights and buffers).
  uint64_t EstimatedBytes(const ArrayArg<uint8_t>& bytes) const {
    uint32_t w = 0, h = 0;
    if (!PngHeaderSize(bytes.data(), bytes.size(), &w, &h) || uint64_t(w) * h > max_pixels_) return 0;
    const uint64_t pixels = uint64_t(w) * h, S = uint64_t(spec_.crop), R = uint64_t(spec_.resize);
    const uint64_t taps = (2 * ((w + R - 1) / R) + 1) + (2 * ((h + R - 1) / R) + 1);
    return pixels * 7 + h + taps * S * 16 + uint64_t(h) * S * 3;
  }

  std::vector<ArrayArg<uint8_t>> images_;
  uint64_t max_pixels_;
  PreprocessSpec spec_;
  MemoryBudget budget_{kBatchDecodeBudgetBytes};
  float* floats_ = nullptr;
  uint8_t* decoded_ = nullptr;
  Napi::ObjectReference floats_ref_, decoded_ref_;
};

Napi::Value DecodePngBinding(const Napi::CallbackInfo& info) {
  const char* fn = "decodePng";
  const int64_t max_pixels = ReadCount(info, 1, "maxPixels", fn, 1, kMaxPixels);
  ArrayArg<uint8_t> bytes = ArrayArg<uint8_t>::Read(info[0], "bytes", fn, Copy::kAlways);
  auto* worker = new DecodePngWorker(info.Env(), std::move(bytes), uint64_t(max_pixels));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value DecodePngBatchBinding(const Napi::CallbackInfo& info) {
  const char* fn = "decodePngBatch";
  Napi::Env env = info.Env();
  const int64_t max_pixels = ReadCount(info, 1, "maxPixels", fn, 1, kMaxPixels);
  const PreprocessSpec spec = ReadPreprocessSpec(info[2], fn);
  if (!info[0].IsArray()) throw ArgTypeError(env, "array of Uint8Array (or null)", "images", fn, info[0]);
  Napi::Array list = info[0].As<Napi::Array>();
  const uint32_t n = list.Length();
  if (n > 65536) throw ArgRangeError(env, "at most 65536 images", "images", fn, "length " + std::to_string(n));
  // At most 2^31 floats in all: one Float32Array.
  if (double(n) * 3.0 * spec.crop * spec.crop > 2147483647.0)
    throw ArgRangeError(env, "images.length * 3 * crop^2 below 2^31", "images", fn, "length " + std::to_string(n));
  // Element reads can run getters (a Proxy, an accessor): every element is read, checked and
  // copied here, before any work starts.
  std::vector<ArrayArg<uint8_t>> images(n);
  for (uint32_t i = 0; i < n; ++i) {
    const Napi::Value v = list.Get(i);
    if (v.IsNull() || v.IsUndefined()) continue;
    images[i] = ArrayArg<uint8_t>::Read(v, "images[" + std::to_string(i) + "]", fn, Copy::kAlways);
  }
  auto* worker = new DecodePngBatchWorker(env, std::move(images), uint64_t(max_pixels), spec);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<DecodePngBinding>(env, exports, "decodePng");
  Export<DecodePngBatchBinding>(env, exports, "decodePngBatch");
});

}  // namespace
}  // namespace lwfm
