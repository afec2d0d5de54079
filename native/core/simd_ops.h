// Small vector helpers the head calls millions of times per episode. The level is resolved once
// per call (ActiveSimd reads the environment) and the chosen function pointer is reused.
#pragma once

#include "core/cpu_features.h"

namespace lwfm {

using DotFn = float (*)(const float* a, const float* b, int n);
DotFn DotFor(SimdLevel level);

// out[i] = exp(in[i]) for n values; AVX2 path uses a polynomial accurate to ~2 ulp.
using ExpFn = void (*)(const float* in, float* out, int n);
ExpFn ExpFor(SimdLevel level);

}  // namespace lwfm
