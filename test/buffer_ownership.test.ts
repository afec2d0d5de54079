// Issue 11: a caller that resizes, detaches or overwrites its typed array while an async native
// call runs must get the result for the array's contents at submission, never a crash or a read
// of freed memory. Each case runs in a child process, so a SIGSEGV is a failed test, not a dead
// runner. The CUDA entries (solveAssignmentsCuda, prepareCudaSupportAsync, CudaSupport.score)
// copy through the same native reader (native/bindings/arg_readers.h); they need a GPU to run.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/binding.js';

interface Line {
  mutation?: string;
  case?: string;
  equal?: boolean;
  ok?: boolean;
  detail?: string;
}

function runChild(script: string, arg: string): Line[] {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, arg], {
    cwd: packageRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const how = child.signal !== null ? `killed by ${child.signal}` : `exit code ${child.status}`;
  expect(child.signal, `${arg}: child ${how}\n${child.stderr}`).toBeNull();
  expect(child.status, `${arg}: child ${how}\n${child.stderr}`).toBe(0);
  return child.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

describe('async native calls own their inputs (resize / detach / overwrite right after submitting)', () => {
  for (const entry of ['solveAssignments', 'Head.prepareSupport', 'Head.score']) {
    it(`${entry}: no crash, result equal to the sync result on the untouched input`, () => {
      const lines = runChild('test/helpers/buffer_mutation_case.ts', entry);
      expect(lines.map((l) => l.mutation)).toEqual(['resize(0)', 'structuredClone transfer', 'postMessage transfer', 'overwrite']);
      for (const l of lines) expect(l.equal, `${entry} after ${l.mutation}: ${l.detail}`).toBe(true);
    }, 130_000);
  }
});

describe('sync native calls borrow safely', () => {
  for (const name of ['preprocessRgb getter detaches src', 'solveAssignmentsSync on a SharedArrayBuffer being written']) {
    it(
      name,
      () => {
        const [line] = runChild('test/helpers/sync_borrow_case.ts', name);
        expect(line?.ok, line?.detail).toBe(true);
      },
      130_000,
    );
  }
});
