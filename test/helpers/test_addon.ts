/**
 * The test addon's hooks (test/native/addon, built by test/global_setup.ts): the GPU solvers'
 * and the GPU head's per-problem code run on the CPU, and the exact CPU solver's totals. They
 * are not in the package's addon (src/binding.ts).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot, type NativeCudaHeadConfig } from '../../src/binding.js';

/** _auctionSolveSync(): the GPU's per-problem auction run on the CPU. */
export interface NativeAuctionResult {
  assignment: Int32Array;
  converged: Uint8Array;
  /** Per problem: the auction's total exceeds the float optimum by at most this. */
  bound: Float64Array;
}

type Solved = { assignment: Int32Array; converged: Uint8Array };

export interface NativeTestHooks {
  _auctionSolveSync(costs: Float32Array, batch: number, rows: number, cols: number, jacobi?: boolean): NativeAuctionResult;
  _auctionSolveTeamSync(costs: Float32Array, batch: number, rows: number, cols: number, members: number, jacobi?: boolean): Solved;
  _exactSolveTeamSync(costs: Float32Array, batch: number, rows: number, cols: number, members: number, maximize?: boolean): Solved;
  _exactSolveFixed9Sync(costs: Float32Array, batch: number): Solved;
  _exactAssignmentTotals(costs: Float32Array, batch: number, rows: number, cols: number): Float64Array;
  _gemmNTHost(a: Float32Array, b: Float32Array, M: number, N: number, K: number, relu: boolean): Float32Array;
  _cudaHeadScoreHost(config: NativeCudaHeadConfig, features: Float32Array, labels: Int32Array, queries: Float32Array): Float32Array;
}

const path = join(packageRoot, 'test', 'native', 'addon', 'build', 'Release', 'lwfm_spm_test.node');

/** The loaded test addon (a missing build fails with how to make it). */
export const hooks: NativeTestHooks = (() => {
  try {
    return createRequire(import.meta.url)(path) as NativeTestHooks;
  } catch (err) {
    throw new Error(
      `Cannot load the test addon ${path} (${(err as Error).message.split('\n')[0]}); run node scripts/build-test-addon.mjs`,
      { cause: err },
    );
  }
})();
