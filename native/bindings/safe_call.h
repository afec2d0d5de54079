// The boundary between this addon's C++ and JavaScript: every export and every async completion
// goes through here, so that no C++ exception ever leaves the addon and every error JavaScript
// sees is a TypeError, a RangeError or an Error with a stable `code`.
//
// Why (issue 11): with C++ exceptions on, node-addon-api turns a failed napi call into a thrown
// Napi::Error, and its callback wrapper (details::WrapCallback) rethrows that into JavaScript
// with Error::ThrowAsJavaScriptException. While an environment is being torn down (a worker
// thread terminating: worker.terminate(), or process.exit() stopping every worker) napi calls
// fail with napi_pending_exception, napi_throw included, and ThrowAsJavaScriptException then
// throws `Error::New(env)` from inside WrapCallback's catch block, out of a C callback:
// std::terminate, SIGABRT, "terminate called after throwing an instance of 'Napi::Error'".
// An AsyncWorker whose work ends during a worker thread's teardown hits it every time: Node runs
// its completion from Environment::CleanupHandles, where settling the promise fails. So the
// exports are wrapped (Export below) and the async workers derive from PromiseWorker, both of
// which catch everything themselves, throw with napi_throw directly and drop what cannot be
// thrown: in a dying environment no JavaScript will run again to see it.
#pragma once
#include <napi.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace lwfm {

constexpr const char* kInternalCode = "ERR_LWFM_INTERNAL";
constexpr const char* kOutOfMemoryCode = "ERR_LWFM_OUT_OF_MEMORY";

// An Error with a stable `code` (src/native_errors.ts maps these to the package's classes).
inline Napi::Error CodedError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", code);
  return e;
}

// Inside a catch block: the JavaScript error for the exception being handled. The core reports
// bad input as std::invalid_argument (TypeError) or std::range_error (RangeError); running out of
// memory (or threads) is ERR_LWFM_OUT_OF_MEMORY; anything else is a broken invariant, ERR_LWFM_INTERNAL.
// Throws (a Napi::Error) only when the environment cannot create objects any more.
inline Napi::Value CurrentErrorValue(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error& e) {
    return e.Value();
  } catch (const std::bad_alloc&) {
    return CodedError(env, "Out of memory in lwfm-spm's native code (an allocation for this call failed)",
                      kOutOfMemoryCode)
        .Value();
  } catch (const std::system_error& e) {
    // EAGAIN / ENOMEM: no thread or memory to be had (std::thread, std::mutex), not a bug.
    if (e.code() == std::errc::resource_unavailable_try_again || e.code() == std::errc::not_enough_memory)
      return CodedError(env, std::string("Out of resources in lwfm-spm's native code: ") + e.what(), kOutOfMemoryCode)
          .Value();
    return CodedError(env, std::string("Internal error in lwfm-spm's native code: ") + e.what(), kInternalCode).Value();
  } catch (const std::invalid_argument& e) {
    return Napi::TypeError::New(env, e.what()).Value();
  } catch (const std::range_error& e) {
    return Napi::RangeError::New(env, e.what()).Value();
  } catch (const std::exception& e) {
    return CodedError(env, std::string("Internal error in lwfm-spm's native code: ") + e.what(), kInternalCode).Value();
  } catch (...) {
    return CodedError(env, "Internal error in lwfm-spm's native code (a non-standard exception)", kInternalCode)
        .Value();
  }
}

// Inside a catch block: throws the exception being handled into JavaScript, or nothing when the
// environment is being torn down (then nobody could catch it).
inline void ThrowCurrentToJs(Napi::Env env) noexcept {
  try {
    napi_throw(env, CurrentErrorValue(env));  // a failed status means the same as a throw here
  } catch (...) {
  }
}

using Entry = Napi::Value (*)(const Napi::CallbackInfo&);

template <Entry F>
Napi::Value Guarded(const Napi::CallbackInfo& info) noexcept {
  try {
    return F(info);
  } catch (...) {
    ThrowCurrentToJs(info.Env());
    return Napi::Value();
  }
}

// exports[name] = F, with every exception of F turned into a JavaScript one (see the top).
template <Entry F>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guarded<F>, name));
}

// An AsyncWorker that settles a promise. Run() does the work on a pool thread and may throw:
// the exception rejects the promise (CurrentErrorValue). Settle() runs on the JavaScript thread
// afterwards and returns the value to resolve with, or throws to reject. A completion during
// teardown, when the promise can no longer be settled, is dropped instead of aborting.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  PromiseWorker(Napi::Env env, const char* resource)
      : Napi::AsyncWorker(env, resource), deferred_(Napi::Promise::Deferred::New(env)) {}

  virtual void Run() = 0;
  virtual Napi::Value Settle(Napi::Env env) = 0;

 private:
  void Execute() final {
    try {
      Run();
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  void OnWorkComplete(Napi::Env env, napi_status status) final {
    if (status != napi_cancelled) {
      try {
        Napi::HandleScope scope(env);
        try {
          if (failure_) std::rethrow_exception(failure_);
          deferred_.Resolve(Settle(env));
        } catch (...) {
          deferred_.Reject(CurrentErrorValue(env));
        }
      } catch (...) {
        // Settling failed: the environment is being torn down and the promise is unobservable.
      }
    }
    failure_ = nullptr;
    Destroy();
  }

  Napi::Promise::Deferred deferred_;
  std::exception_ptr failure_;
};

}  // namespace lwfm
