{
  "targets": [
    {
      "target_name": "lwfm_spm_test",
      "sources": [
        "addon.cc",
        "solver_hooks.cc",
        "head_hooks.cc",
        "../../../native/core/assignment.cc",
        "../../../native/core/assignment_forbidden.cc",
        "../../../native/core/assignment_lapjv_avx2.cc",
        "../../../native/core/assignment_lapjv_avx512.cc",
        "../../../native/core/assignment_lapjv_scalar.cc",
        "../../../native/core/assignment_small_avx2.cc",
        "../../../native/core/cpu_features.cc",
        "../../../native/core/thread_pool.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../../native",
        "../../../cuda"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-fno-math-errno", "-fvisibility=hidden"],
      "ldflags": ["-pthread"]
    }
  ]
}
