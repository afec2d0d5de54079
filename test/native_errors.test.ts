// Issue 11: no plain Error without a `code` leaves the addon. native/bindings/safe_call.h turns
// every C++ exception into a TypeError, RangeError or coded Error; src/native_errors.ts gives the
// coded ones the package's classes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { native, packageRoot } from '../src/binding.js';
import { CudaError, DeviceUnavailableError, DisposedError, LwfmError } from '../src/errors.js';
import { fromNative, withNamedErrors } from '../src/native_errors.js';
import { staleDist } from './support/dist.js';

const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('fromNative / withNamedErrors', () => {
  it('gives coded errors their class, keeps message and code, and passes everything else through', () => {
    const cases: [Error, new (...args: never[]) => Error, string][] = [
      [coded('no GPU', 'ERR_LWFM_DEVICE_UNAVAILABLE'), DeviceUnavailableError, 'ERR_LWFM_DEVICE_UNAVAILABLE'],
      [coded('kernel failed', 'ERR_LWFM_CUDA'), CudaError, 'ERR_LWFM_CUDA'],
      [coded('Head was used after dispose()', 'ERR_LWFM_DISPOSED'), DisposedError, 'ERR_LWFM_DISPOSED'],
      [coded('Out of memory in x', 'ERR_LWFM_OUT_OF_MEMORY'), LwfmError, 'ERR_LWFM_OUT_OF_MEMORY'],
      [coded('Internal error in x', 'ERR_LWFM_INTERNAL'), LwfmError, 'ERR_LWFM_INTERNAL'],
    ];
    for (const [err, cls, code] of cases) {
      const named = fromNative(err) as LwfmError;
      expect(named).toBeInstanceOf(cls);
      expect(named.code).toBe(code);
      expect(named.message).toBe(err.message);
    }
    const type = new TypeError('Expected a Float32Array');
    const foreign = new Error("a caller's getter threw this");
    expect(fromNative(type)).toBe(type);
    expect(fromNative(foreign)).toBe(foreign);
  });

  it('maps what a sync function throws and what an async one rejects with', async () => {
    const wrapped = withNamedErrors({
      sync: (): never => {
        throw coded('Out of memory in x', 'ERR_LWFM_OUT_OF_MEMORY');
      },
      async: (): Promise<never> => Promise.reject(coded('Internal error in x', 'ERR_LWFM_INTERNAL')),
      fine: (a: number, b: number): number => a + b,
      constant: 7,
    });
    expect(() => wrapped.sync()).toThrow(LwfmError);
    await expect(wrapped.async()).rejects.toMatchObject({ constructor: LwfmError, code: 'ERR_LWFM_INTERNAL' });
    expect(wrapped.fine(2, 3)).toBe(5);
    expect(wrapped.constant).toBe(7);
  });
});

describe('the addon', () => {
  it('reports a disposed head handle used directly as DisposedError (before: a plain Error)', () => {
    const head = native.headCreate({
      channels: [4],
      featureSize: 2,
      temperatureAttn: 1,
      temperature: 1,
      matcherWeight: 0,
      topK: 1,
      threads: 1,
    });
    const support = native.headPrepareSupportSync(head, new Float32Array(2 * 4 * 4).fill(0.5), new Int32Array([0, 1]));
    native.headDispose(head);
    expect(() => native.headScoreSync(head, support, new Float32Array(16))).toThrow(DisposedError);
    native.supportDispose(support);
  });
});

// Under an address-space limit of 4 GiB the child allocates an input that fits (its pages are
// never touched: a few tens of MB resident) and the async call's input copy does not.
describe('an allocation that fails inside an async call', () => {
  const LIMIT_KB = 4 * 1024 * 1024;
  for (const entry of ['solveAssignments', 'Head.prepareSupport', 'Head.score']) {
    it(`${entry}: LwfmError ERR_LWFM_OUT_OF_MEMORY, and the process goes on`, () => {
      const stale = staleDist(); // the child runs dist/ (see test/helpers/oom_case.mjs)
      if (stale) throw new Error(stale);
      const child = spawnSync(
        'bash',
        ['-c', `ulimit -v ${LIMIT_KB} && exec "$0" test/helpers/oom_case.mjs "$1" ${LIMIT_KB}`, process.execPath, entry],
        {
          cwd: packageRoot,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      const how = child.signal !== null ? `killed by ${child.signal}` : `exit code ${child.status}`;
      expect(child.status, `child ${how}\n${child.stderr}`).toBe(0);
      const line = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(line).toMatchObject({ case: entry, name: 'LwfmError', code: 'ERR_LWFM_OUT_OF_MEMORY', after: [0, 1] });
      expect(line.message).toMatch(/Out of memory/);
    }, 70_000);
  }
});
