/**
 * Which prebuilt addon to load: the CUDA variant (prebuilds/<platform>-<arch>-cuda/) when it is
 * installed and an NVIDIA driver new enough for it is present, else the CPU build. Decided
 * from files alone, before any addon is loaded, so that a host without a GPU never maps the
 * larger CUDA binary. The CUDA variant also contains the CPU engine: a wrong guess costs size,
 * never correctness (without a usable GPU its head reports CUDA unavailable and runs on the CPU).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The oldest NVIDIA driver the CUDA variant runs on: it is built with CUDA 13.0 and links the
 * CUDA runtime statically, and CUDA 13.x needs a driver of the r580 branch or newer.
 */
export const MIN_DRIVER_VERSION = '580.65.06';

/** What the loader decided and why (reported by nativeInfo()). */
export interface VariantDecision {
  variant: 'cpu' | 'cuda';
  reason: string;
}

/** Inputs of the decision, all readable without loading an addon. */
export interface VariantProbe {
  /** The CUDA prebuild file exists. */
  cudaPrebuild: boolean;
  /** Contents of /proc/driver/nvidia/version, or undefined when absent (no NVIDIA kernel driver). */
  driverText: string | undefined;
  /** LWFM_SPM_VARIANT: 'cpu' or 'cuda' forces a choice; anything else is ignored. */
  forced: string | undefined;
}

/** Path of the CUDA prebuild under a package root. */
export function cudaPrebuildPath(root: string, platform = process.platform, arch = process.arch): string {
  return join(root, 'prebuilds', `${platform}-${arch}-cuda`, 'node.napi.node');
}

/** The driver version in /proc/driver/nvidia/version ("... Kernel Module  580.65.06  ..."). */
export function parseDriverVersion(text: string): string | undefined {
  return /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Decides between the CUDA and the CPU prebuild.
 * @example
 * chooseVariant({ cudaPrebuild: true, driverText: undefined, forced: undefined });
 * // { variant: 'cpu', reason: 'no NVIDIA driver found (/proc/driver/nvidia/version is absent)' }
 */
export function chooseVariant(probe: VariantProbe): VariantDecision {
  if (probe.forced === 'cpu') return { variant: 'cpu', reason: 'LWFM_SPM_VARIANT=cpu' };
  if (!probe.cudaPrebuild) return { variant: 'cpu', reason: 'the CUDA variant is not installed (no CUDA prebuild for this platform)' };
  if (probe.forced === 'cuda') return { variant: 'cuda', reason: 'LWFM_SPM_VARIANT=cuda' };
  if (probe.driverText === undefined) return { variant: 'cpu', reason: 'no NVIDIA driver found (/proc/driver/nvidia/version is absent)' };
  const version = parseDriverVersion(probe.driverText);
  if (version === undefined)
    return { variant: 'cpu', reason: 'the NVIDIA driver version could not be read from /proc/driver/nvidia/version' };
  if (compareVersions(version, MIN_DRIVER_VERSION) < 0) {
    return {
      variant: 'cpu',
      reason: `NVIDIA driver ${version} is older than ${MIN_DRIVER_VERSION}, the minimum for the CUDA variant (CUDA 13.0): update the driver to use the GPU`,
    };
  }
  return { variant: 'cuda', reason: `NVIDIA driver ${version} (>= ${MIN_DRIVER_VERSION})` };
}

/** The probe for this machine and package root. */
export function probeVariant(root: string, env: NodeJS.ProcessEnv = process.env): VariantProbe {
  let driverText: string | undefined;
  try {
    driverText = readFileSync('/proc/driver/nvidia/version', 'utf8');
  } catch {
    driverText = undefined;
  }
  return { cudaPrebuild: existsSync(cudaPrebuildPath(root)), driverText, forced: env.LWFM_SPM_VARIANT };
}
