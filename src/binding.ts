/**
 * The only module that loads and types the native addon. Everything else imports
 * `native` from here, so the search order and the error message live in one place.
 *
 * Search order: $LWFM_SPM_NATIVE, the local CUDA build (cmake-js, build-cuda/),
 * the local CPU build (node-gyp, build/), then the prebuilds: the CUDA variant
 * (prebuilds/<platform>-<arch>-cuda/) when src/native_variant.ts says so (installed, and an
 * NVIDIA driver new enough), else the CPU prebuild via node-gyp-build.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError } from './errors.js';
import { withNamedErrors } from './native_errors.js';
import { chooseVariant, cudaPrebuildPath, probeVariant, type VariantDecision, type VariantProbe } from './native_variant.js';
import type { NativeTrace } from './explain/terms.js';

const require = createRequire(import.meta.url);

/** Package root: this file lives in src/ (tests) or dist/ (published), one level down. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the addon reports about its own build. */
export interface NativeBuildInfo {
  /** CUDA engine compiled in. */
  cuda: boolean;
  /** SIMD path in use ('scalar' | 'avx2' | 'avx512'), after the LWFM_SPM_SIMD cap. */
  simd: string;
  /** Best SIMD path this CPU supports. */
  cpuSimd: string;
  hardwareThreads: number;
  napiVersion: number;
}

/** Opaque native object (a type-tagged N-API External). */
export type NativeHandle<Kind extends string> = { readonly __native: Kind };

/**
 * Options the native head takes (native/core/head_config.h), already validated in full by
 * src/head_options.ts; the addon re-checks only what protects its memory.
 */
export interface NativeHeadOptions {
  channels: number[];
  featureSize: number;
  temperatureAttn: number;
  temperature: number;
  matcherWeight: number;
  topK: number;
  matcher?: { w1: Float32Array; w2: Float32Array }[];
  /** 0 = all hardware threads. */
  threads: number;
}

/** Shape of the addon's exports. Each native module adds its own section. */
export interface NativeBinding {
  buildInfo(): NativeBuildInfo;
  // --- assignment (native/bindings/assignment_binding.cc) ---
  /** Solves `batch` row-major rows x cols problems on the calling thread; throws RangeError naming a bad matrix. */
  solveAssignmentsSync(costs: Float32Array, batch: number, rows: number, cols: number, maximize: boolean): Int32Array;
  /** Same off the event loop, the batch split over `threads` (undefined: all hardware threads). */
  solveAssignments(
    costs: Float32Array,
    batch: number,
    rows: number,
    cols: number,
    maximize: boolean,
    threads?: number,
  ): Promise<Int32Array>;
  // --- head (native/bindings/head_binding.cc) ---
  headCreate(options: NativeHeadOptions): NativeHandle<'head'>;
  headDispose(head: NativeHandle<'head'>): void;
  headPrepareSupport(head: NativeHandle<'head'>, features: Float32Array, labels: Int32Array): Promise<NativeHandle<'support'>>;
  headPrepareSupportSync(head: NativeHandle<'head'>, features: Float32Array, labels: Int32Array): NativeHandle<'support'>;
  headScore(head: NativeHandle<'head'>, support: NativeHandle<'support'>, query: Float32Array): Promise<Float32Array>;
  headScoreSync(head: NativeHandle<'head'>, support: NativeHandle<'support'>, query: Float32Array): Float32Array;
  /** One query's score with every term recorded (src/explain/terms.ts arranges it). */
  headExplain(head: NativeHandle<'head'>, support: NativeHandle<'support'>, query: Float32Array): Promise<NativeTrace>;
  /** Milliseconds per stage of the latest prepare and score calls. */
  headTimings(head: NativeHandle<'head'>): { prepare: Record<string, number>; score: Record<string, number> };
  supportInfo(support: NativeHandle<'support'>): { way: number; size: number; shotsPerClass: Int32Array };
  supportDispose(support: NativeHandle<'support'>): void;
  // --- cuda (native/bindings/cuda_binding.cc) ---
  cudaInfo(): NativeCudaInfo;
  /** GPU solver 'exact' (default) or 'auction' (cuda/cuda_engine.h GpuSolver); unfinished problems go to the exact CPU solver. */
  solveAssignmentsCuda(
    costs: Float32Array,
    batch: number,
    rows: number,
    cols: number,
    maximize?: boolean,
    solver?: 'exact' | 'auction',
  ): Promise<Int32Array>;
  /**
   * Decodes a plain PNG (native/image/png_decode.h) to RGB on libuv's pool; undefined when the
   * decoder declines it (outside its subset, malformed, or over maxPixels): sharp's then.
   */
  decodePng(bytes: Uint8Array, maxPixels: number): Promise<{ rgb: Uint8Array; width: number; height: number } | undefined>;
  /**
   * decodePng and preprocessRgb's work for a batch, on every core: image i's 3 x S x S floats at
   * i * 3 * S * S, decoded[i] 1, or 0 (floats left zero) where declined or null.
   */
  decodePngBatch(
    images: (Uint8Array | null)[],
    maxPixels: number,
    spec: { resize: number; crop: number; offset: number; mean: readonly number[]; std: readonly number[] },
  ): Promise<{ floats: Float32Array; decoded: Uint8Array }>;
  /** Resize / center-crop / normalize of one decoded RGB image into `out` (backbone workers; native/core/pil_resize.h). */
  preprocessRgb(
    src: Uint8Array,
    width: number,
    height: number,
    spec: { resize: number; crop: number; offset: number; mean: readonly number[]; std: readonly number[] },
    out: Float32Array,
    outOffset: number,
  ): void;
  cudaHeadPrepare(config: NativeCudaHeadConfig, features: Float32Array, labels: Int32Array): NativeCudaHeadHandle;
  cudaHeadPrepareAsync(config: NativeCudaHeadConfig, features: Float32Array, labels: Int32Array): Promise<NativeCudaHeadHandle>;
  cudaHeadScore(handle: NativeCudaHeadHandle, queries: Float32Array): Promise<Float32Array>;
  cudaHeadDispose(handle: NativeCudaHeadHandle): void;
}

/** cudaInfo() of the addon (see src/cuda.ts). */
export interface NativeCudaInfo {
  compiled: boolean;
  available: boolean;
  reason?: string;
  devices: { name: string; computeCapability: string; memoryBytes: number }[];
}

/**
 * Head configuration passed to cudaHeadPrepare / cudaHeadPrepareAsync: the CPU head's options
 * (one HeadConfig in native/core/head_config.h) plus the support's number of classes.
 */
export interface NativeCudaHeadConfig extends Omit<NativeHeadOptions, 'threads'> {
  way: number;
  /** Per-pair assignment on the GPU: 'exact' (default) or the auction (cuda/head_math.cuh). */
  solver?: 'exact' | 'auction';
}

/** Opaque device-side prepared support. */
export type NativeCudaHeadHandle = { readonly __cudaHead: unique symbol };

/** Where the addon was loaded from, and which kind of build it is. */
export interface NativeOrigin {
  path: string;
  kind: 'env' | 'cuda-build' | 'cpu-build' | 'prebuild' | 'prebuild-cuda';
  /** The prebuild decision (CUDA variant or CPU) and its reason; absent when a local build or LWFM_SPM_NATIVE was used. */
  variant?: VariantDecision;
}

function tryLoad(path: string, tried: string[]): NativeBinding | undefined {
  if (!existsSync(path)) {
    tried.push(`${path} (not found)`);
    return undefined;
  }
  try {
    return require(path) as NativeBinding;
  } catch (err) {
    tried.push(`${path} (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** Loads the addon from the first location that works; exported for tests. */
export function loadNative(
  root = packageRoot,
  env: NodeJS.ProcessEnv = process.env,
  probe: VariantProbe = probeVariant(root, env),
): { binding: NativeBinding; origin: NativeOrigin } {
  const tried: string[] = [];
  const override = env.LWFM_SPM_NATIVE;
  if (override) {
    const path = resolve(override);
    const binding = tryLoad(path, tried);
    if (binding) return { binding, origin: { path, kind: 'env' } };
    // An explicit override that fails is an error, not a reason to silently use something else.
    throw new NativeLoadError(
      `Cannot load the lwfm-spm native addon from LWFM_SPM_NATIVE=${override}: ${tried.join('; ')}. ` +
        'Unset LWFM_SPM_NATIVE or point it at a built lwfm_spm.node.',
    );
  }
  const local: [string, NativeOrigin['kind']][] = [
    [join(root, 'build-cuda', 'Release', 'lwfm_spm.node'), 'cuda-build'],
    [join(root, 'build', 'Release', 'lwfm_spm.node'), 'cpu-build'],
  ];
  for (const [path, kind] of local) {
    const binding = tryLoad(path, tried);
    if (binding) return { binding, origin: { path, kind } };
  }
  const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let variant = chooseVariant(probe);
  if (variant.variant === 'cuda') {
    const path = cudaPrebuildPath(root);
    const binding = tryLoad(path, tried);
    if (binding) return { binding, origin: { path, kind: 'prebuild-cuda', variant } };
    variant = { variant: 'cpu', reason: `the CUDA variant did not load (${tried.at(-1)})` };
  }
  try {
    const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    const path = nodeGypBuild.resolve(root);
    const binding = tryLoad(path, tried);
    if (binding) return { binding, origin: { path, kind: 'prebuild', variant } };
  } catch (err) {
    tried.push(`${prebuildDir} (${(err as Error).message.split('\n')[0]})`);
  }
  throw new NativeLoadError(
    `Cannot load the lwfm-spm native addon for ${process.platform}-${process.arch} (Node ${process.versions.node}, ` +
      `N-API ${process.versions.napi}). Tried:\n  - ${tried.join('\n  - ')}\n` +
      'Fix: run `npm rebuild lwfm-spm` (needs python3, make and a C++17 compiler) to build it from source, ' +
      '`npm run build:cuda` for the CUDA build, or set LWFM_SPM_NATIVE to the path of a built lwfm_spm.node.',
  );
}

const loaded = loadNative();

/** The loaded addon. */
// Every function's errors come out as the package's named errors (src/native_errors.ts).
export const native: NativeBinding = withNamedErrors(loaded.binding);

/** Where the addon came from. */
export const nativeOrigin: NativeOrigin = loaded.origin;
