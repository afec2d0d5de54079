// Issue 11: process.exit() (or worker.terminate()) while native work runs must end the process
// normally, with the code given to process.exit, never SIGABRT ("terminate called after throwing
// an instance of 'Napi::Error'"). Causes and fixes: native/bindings/safe_call.h (this addon's
// async work finishing while a worker thread is torn down) and src/backbone/exit_guard.ts
// (onnxruntime-node's session run returning into a stopping backbone or quantizer worker).
// Each case runs in a child process (test/helpers/exit_in_flight_case.ts), which says whether
// its work was still running when it exited.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/binding.js';

const EXIT_CODE = 3; // test/helpers/exit_in_flight_case.ts

function runCase(name: string, arg?: string): string {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/exit_in_flight_case.ts', name, ...(arg === undefined ? [] : [arg])],
    { cwd: packageRoot, encoding: 'utf8', timeout: 120_000 },
  );
  const how = child.signal !== null ? `killed by ${child.signal}` : `exit code ${child.status}`;
  expect(child.signal, `${name}: child ${how}\n${child.stderr}`).toBeNull();
  expect(child.status, `${name}: child ${how}\n${child.stderr}`).toBe(EXIT_CODE);
  expect(child.stderr).not.toMatch(/terminate called/);
  return child.stdout;
}

describe('process.exit() with native work in flight exits normally', () => {
  const cases: [string, string][] = [
    ['solveAssignments', 'solveAssignments'],
    ['Head.prepareSupport', 'Head.prepareSupport'],
    ['Head.score', 'Head.score'],
    ['worker:solveAssignments', 'solveAssignments in a worker'],
    ['worker:Head.prepareSupport', 'Head.prepareSupport in a worker'],
    ['worker:Head.score', 'Head.score in a worker'],
  ];
  for (const [name, shown] of cases) {
    it(`${shown}: exit code ${EXIT_CODE}, no signal`, () => {
      expect(runCase(name)).toContain(`in flight: ${shown}`);
    }, 130_000);
  }

  it('worker.terminate() while Head.score runs in that worker: the process goes on and exits normally', () => {
    expect(runCase('terminate:Head.score')).toContain('in flight: Head.score in a worker');
  }, 130_000);

  describe('FewShotClassifier.classify (backbone workers running ONNX Runtime and sharp)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lwfm-exit-'));
      execFileSync(process.execPath, [join(packageRoot, 'tools', 'make_samples.mjs'), dir], { stdio: 'pipe' });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it(`exit code ${EXIT_CODE}, no signal`, () => {
      expect(runCase('classify', dir)).toContain('in flight: classify');
    }, 130_000);
  });

  describe("quantizeBundle (the quantizer's worker calibrating with ONNX Runtime)", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lwfm-exit-q-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it(`exit code ${EXIT_CODE}, no signal`, () => {
      expect(runCase('quantizeBundle', dir)).toContain('in flight: quantizeBundle');
    }, 130_000);
  });
});
