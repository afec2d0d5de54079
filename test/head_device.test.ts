// Head's device option ('auto' | 'cpu' | 'cuda'): construction-time resolution and errors in
// whichever build is loaded (node-gyp CPU build or cmake-js CUDA build), the per-call choice
// under 'auto' (with a simulated GPU that runs the GPU head's own math on the CPU), and,
// when a device exists, GPU against CPU logits on the head fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { native, packageRoot, type NativeCudaHeadConfig, type NativeCudaHeadHandle } from '../src/binding.js';
import { cudaInfo } from '../src/cuda.js';
import { CUDA_AUTO_MIN_PAIRS, _resetCudaFallbackWarning } from '../src/device.js';
import { CudaError, DeviceUnavailableError, DisposedError, Head, nativeInfo, type HeadDevice } from '../src/index.js';
import { hooks } from './helpers/test_addon.js';
import { headOptionsFor, makeEpisode, type EpisodeCase } from './helpers/episode_rng.js';
import { argmaxRows, maxAbsDiff } from './helpers/logits.js';

interface FixtureCase extends EpisodeCase {
  expected: number[];
  argmax: number[];
}

const fixtures = JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'head', 'cases.json'), 'utf8')) as {
  cases: FixtureCase[];
};
const fixture = (name: string): FixtureCase => fixtures.cases.find((c) => c.name === name)!;

const cuda = cudaInfo();
const build = nativeInfo();
const noDevice = `no CUDA device: ${(cuda.reason ?? '').replace(/^no CUDA device: /, '')}`;
if (!cuda.available)
  console.log(`[head_device] GPU head tests skipped: ${noDevice} (build: ${build.origin}, CUDA compiled in: ${build.cuda})`);

function headFor(c: EpisodeCase, matcher: ReturnType<typeof makeEpisode>['matcher'], device: HeadDevice): Head {
  return new Head({ ...headOptionsFor(c, matcher), device });
}

async function run(c: EpisodeCase, device: HeadDevice, query?: Float32Array): Promise<{ logits: Float32Array; head: Head }> {
  const ep = makeEpisode(c);
  const head = headFor(c, ep.matcher, device);
  const support = await head.prepareSupport(ep.support, c.labels);
  try {
    return { logits: await head.score(support, query ?? ep.query), head };
  } finally {
    support.dispose();
    head.dispose();
  }
}

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

async function warningsDuring(f: () => unknown): Promise<string[]> {
  const codes: string[] = [];
  const onWarning = (w: Error & { code?: string }) => codes.push(w.code ?? '');
  process.on('warning', onWarning);
  try {
    await f();
    await new Promise((r) => setImmediate(r)); // emitWarning delivers on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  return codes;
}

describe(`Head device resolution (loaded: ${build.origin}, CUDA compiled in: ${build.cuda}, usable: ${cuda.available})`, () => {
  it("'cpu' runs the CPU engine and matches the fixtures", async () => {
    const c = fixture('5-way 1-shot');
    const { logits, head } = await run(c, 'cpu');
    expect(head.device).toBe('cpu');
    expect(head.requestedDevice).toBe('cpu');
    expect(head.lastDevice).toBe('cpu');
    expect(maxAbsDiff(logits, c.expected)).toBeLessThan(1e-4);
    expect(argmaxRows(logits, 5)).toEqual(c.argmax);
  });

  if (cuda.available) console.log('[skip] the no-device DeviceUnavailableError test: a usable GPU exists here');
  it.skipIf(cuda.available /* a usable GPU exists: this checks the no-device path */)(
    "'cuda' without a usable GPU throws DeviceUnavailableError with this build's reason",
    () => {
      const err = caught(() => new Head({ channels: [512, 512], device: 'cuda' }));
      expect(err).toBeInstanceOf(DeviceUnavailableError);
      expect((err as DeviceUnavailableError).code).toBe('ERR_LWFM_DEVICE_UNAVAILABLE');
      expect((err as Error).message).toContain(cuda.reason!);
      if (build.cuda) {
        // CUDA build on a machine without a GPU/driver: the runtime's reason.
        expect(cuda.compiled).toBe(true);
        expect((err as Error).message).toMatch(/no CUDA device/);
      } else {
        expect(cuda.compiled).toBe(false);
        expect((err as Error).message).toMatch(/not compiled into this build/);
      }
    },
  );

  it.skipIf(!cuda.available /* no CUDA device, reason printed above */)("'cuda' with a usable GPU resolves to 'cuda'", () => {
    const head = new Head({ channels: [512, 512], device: 'cuda' });
    expect(head.device).toBe('cuda');
    head.dispose();
  });

  it("'cuda' with featureSize above the GPU head's limit says why, in every build", () => {
    const err = caught(() => new Head({ channels: [512, 512], featureSize: 6, device: 'cuda' }));
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as Error).message).toMatch(/featureSize up to 5 but received 6/);
    const negative = caught(() => new Head({ channels: [8], matcherWeight: -1, device: 'cuda' }));
    expect(negative).toBeInstanceOf(DeviceUnavailableError);
    expect((negative as Error).message).toMatch(/matcherWeight >= 0/);
  });

  it("'auto' above the GPU head's featureSize limit resolves to the CPU", () => {
    const head = new Head({ channels: [512, 512], featureSize: 6 });
    expect(head.device).toBe('cpu');
    head.dispose();
  });

  it('rejects an unknown device, and checks other arguments before the device', () => {
    expect(() => new Head({ channels: [8], device: 'gpu' as HeadDevice })).toThrow(TypeError);
    expect(() => new Head({ channels: [8], featureSize: 0, device: 'cuda' })).toThrow(RangeError);
  });

  it("'auto' gives results identical to 'cpu' when the GPU is not used", async () => {
    for (const name of ['5-way 1-shot', 'unequal shots per class', 'featureSize 5']) {
      const c = fixture(name);
      const cpu = await run(c, 'cpu');
      const auto = await run(c, 'auto');
      // Fixture episodes have far fewer than CUDA_AUTO_MIN_PAIRS pairs: CPU even with a GPU.
      expect(c.queries * c.labels.length).toBeLessThan(CUDA_AUTO_MIN_PAIRS);
      expect(auto.head.lastDevice).toBe('cpu');
      expect(auto.head.device).toBe(cuda.available && c.feature_size <= 5 ? 'cuda' : 'cpu');
      expect(Array.from(auto.logits), name).toEqual(Array.from(cpu.logits));
    }
  });

  it(`'auto' warns LWFM_CUDA_FALLBACK ${build.cuda && !cuda.available ? 'once' : 'never'} in this build`, async () => {
    _resetCudaFallbackWarning();
    const codes = await warningsDuring(() => {
      for (let i = 0; i < 3; i++) new Head({ channels: [8, 8] }).dispose();
      new Head({ channels: [8, 8], device: 'auto' }).dispose();
      new Head({ channels: [8, 8], device: 'cpu' }).dispose();
    });
    const expected = cuda.compiled && !cuda.available ? 1 : 0;
    expect(codes.filter((c) => c === 'LWFM_CUDA_FALLBACK')).toHaveLength(expected);
  });

  it('info() reports the build, the resolution and the latest engine', async () => {
    const c = fixture('zero vectors');
    const ep = makeEpisode(c);
    const head = headFor(c, ep.matcher, 'auto');
    const before = head.info();
    expect(before.requested).toBe('auto');
    expect(before.device).toBe(head.device);
    expect(before.lastDevice).toBeUndefined();
    expect(before.cudaCompiled).toBe(build.cuda);
    expect(before.cudaAvailable).toBe(cuda.available);
    expect(before.cudaReason).toBe(cuda.reason);
    expect(before.autoMinPairs).toBe(CUDA_AUTO_MIN_PAIRS);
    const support = head.prepareSupportSync(ep.support, c.labels);
    head.scoreSync(support, ep.query);
    expect(head.info().lastDevice).toBe('cpu');
    support.dispose();
    expect(() => head.scoreSync(support, ep.query)).toThrow(DisposedError);
    head.dispose();
  });
});

// A simulated usable GPU: cudaInfo says available, and the GPU head's entry points run the GPU
// head's own per-pair / per-class code on the CPU (_cudaHeadScoreHost). This checks Head's
// wiring (lazy GPU copy, per-call choice, dispose of both copies, sync paths) on any machine.
describe('Head dispatch with a simulated GPU', () => {
  interface FakeHandle {
    config: NativeCudaHeadConfig;
    features: Float32Array;
    labels: Int32Array;
    disposed: boolean;
  }
  let prepared: FakeHandle[] = [];

  function simulateGpu(): void {
    prepared = [];
    vi.spyOn(native, 'cudaInfo').mockReturnValue({
      compiled: true,
      available: true,
      devices: [{ name: 'Simulated GPU', computeCapability: '9.0', memoryBytes: 2 ** 30 }],
    });
    const prepare = (config: NativeCudaHeadConfig, features: Float32Array, labels: Int32Array): NativeCudaHeadHandle => {
      const h: FakeHandle = { config: { ...config }, features: features.slice(), labels: labels.slice(), disposed: false };
      prepared.push(h);
      return h as unknown as NativeCudaHeadHandle;
    };
    vi.spyOn(native, 'cudaHeadPrepare').mockImplementation(prepare);
    // Resolves a few turns later, as the real one does after its worker thread.
    vi.spyOn(native, 'cudaHeadPrepareAsync').mockImplementation(async (config, features, labels) => {
      const h = prepare(config, features, labels);
      await new Promise((r) => setImmediate(r));
      return h;
    });
    vi.spyOn(native, 'cudaHeadScore').mockImplementation(async (handle, queries) => {
      const h = handle as unknown as FakeHandle;
      if (h.disposed) throw new Error('used after dispose');
      return hooks._cudaHeadScoreHost(h.config, h.features, h.labels, queries);
    });
    vi.spyOn(native, 'cudaHeadDispose').mockImplementation((handle) => {
      (handle as unknown as FakeHandle).disposed = true;
    });
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  // 8-way 4-shot, small channels: 32 supports x 8 queries = 256 pairs = the threshold.
  const big: EpisodeCase = {
    name: 'simulated',
    seed: 7,
    labels: Array.from({ length: 32 }, (_, i) => i % 8),
    queries: 8,
    channels: [8, 12],
    feature_size: 3,
    temperature_attn: 5,
    temperature: 0.2,
    matcher_weight: 0.5,
    top_k: 1,
    matcher: true,
  };

  it("'auto' stays on the CPU below CUDA_AUTO_MIN_PAIRS, prepares the GPU copy lazily at it, and agrees", async () => {
    expect(big.labels.length * big.queries).toBe(CUDA_AUTO_MIN_PAIRS);
    simulateGpu();
    const ep = makeEpisode(big);
    const matcher = ep.matcher!.map(({ w1, w2 }) => ({ w1: w1.slice(), w2: w2.slice() }));
    const head = headFor(big, matcher, 'auto');
    expect(head.device).toBe('cuda');
    for (const m of matcher) m.w1.fill(0); // the caller reusing its weights must not change the lazy GPU copy either
    const features = ep.support.slice();
    const support = await head.prepareSupport(features, big.labels);
    features.fill(0); // the caller reusing its array must not change the lazy GPU copy
    expect(prepared).toHaveLength(0);

    const C = 20 * 9;
    const small = ep.query.subarray(0, (big.queries - 1) * C); // 224 pairs
    const cpuSmall = await head.score(support, small);
    expect(head.lastDevice).toBe('cpu');
    expect(prepared).toHaveLength(0);

    const gpu = await head.score(support, ep.query);
    expect(head.lastDevice).toBe('cuda');
    expect(prepared).toHaveLength(1);
    expect(Array.from(prepared[0]!.features)).toEqual(Array.from(ep.support));
    const cpu = head.scoreSync(support, ep.query); // sync is CPU-only
    expect(head.lastDevice).toBe('cpu');
    expect(maxAbsDiff(gpu, cpu)).toBeLessThan(1e-4);
    expect(argmaxRows(gpu, 8)).toEqual(argmaxRows(cpu, 8));
    expect(maxAbsDiff(cpuSmall, cpu.subarray(0, cpuSmall.length))).toBeLessThan(1e-5);

    await head.score(support, ep.query);
    expect(prepared).toHaveLength(1); // reused, not prepared again
    support.dispose();
    expect(prepared[0]!.disposed).toBe(true);
    await expect(head.score(support, ep.query)).rejects.toThrow(DisposedError);
    head.dispose();
  });

  it("'auto' makes the GPU copy once for concurrent calls, off the event loop, and a dispose while it is made lets those calls finish", async () => {
    simulateGpu();
    const ep = makeEpisode(big);
    const head = headFor(big, ep.matcher, 'auto');
    const support = await head.prepareSupport(ep.support, big.labels);
    const cpu = head.scoreSync(support, ep.query);
    const calls = [head.score(support, ep.query), head.score(support, ep.query)];
    expect(prepared).toHaveLength(1); // one preparation shared by both calls
    support.dispose(); // while the GPU copy is still being made
    const logits = await Promise.all(calls);
    for (const l of logits) expect(maxAbsDiff(l, cpu)).toBeLessThan(1e-4);
    await new Promise((r) => setImmediate(r));
    expect(prepared[0]!.disposed).toBe(true); // freed once it arrived and the calls had started
    expect(vi.mocked(native.cudaHeadPrepare)).not.toHaveBeenCalled(); // the synchronous path stays unused
    head.dispose();
  });

  it("'auto' runs a call on the CPU when the GPU fails (one LWFM_CUDA_RUNTIME_FALLBACK warning); input errors still reject", async () => {
    simulateGpu();
    const ep = makeEpisode(big);
    const head = headFor(big, ep.matcher, 'auto');
    const support = await head.prepareSupport(ep.support, big.labels);
    const cpu = head.scoreSync(support, ep.query);
    // What `native` (src/binding.ts wraps the addon: src/native_errors.ts) rejects with for the addon's ERR_LWFM_CUDA.
    const failure = new CudaError('simulated out of memory');
    vi.mocked(native.cudaHeadScore).mockRejectedValue(failure);
    let logits: Float32Array[] = [];
    const codes = await warningsDuring(async () => {
      logits = await Promise.all([head.score(support, ep.query), head.score(support, ep.query)]);
    });
    expect(logits).toHaveLength(2);
    expect(codes.filter((c) => c === 'LWFM_CUDA_RUNTIME_FALLBACK')).toHaveLength(1);
    expect(head.lastDevice).toBe('cpu');
    for (const l of logits) expect(Array.from(l)).toEqual(Array.from(cpu));
    vi.mocked(native.cudaHeadScore).mockRejectedValue(new RangeError('Expected finite values for queries'));
    await expect(head.score(support, ep.query)).rejects.toThrow(RangeError);
    support.dispose();
    head.dispose();
  });

  it("'auto' with { stable: true } makes the GPU copy from the caller's array itself, without a private copy", async () => {
    simulateGpu();
    const ep = makeEpisode(big);
    const head = headFor(big, ep.matcher, 'auto');
    const features = ep.support.slice();
    const stable = await head.prepareSupport(features, big.labels, { stable: true });
    const copied = await head.prepareSupport(features, big.labels);
    await head.score(stable, ep.query);
    await head.score(copied, ep.query);
    const calls = vi.mocked(native.cudaHeadPrepareAsync).mock.calls;
    expect(calls).toHaveLength(2);
    expect(calls[0]![1]).toBe(features); // the same array: one copy of the support in memory
    expect(calls[1]![1]).not.toBe(features); // default: a private copy (the caller may reuse its array)
    expect(Array.from(calls[1]![1])).toEqual(Array.from(features));
    await expect(head.prepareSupport(features, big.labels, { stable: 'yes' as never })).rejects.toThrow(/boolean for options.stable/);
    stable.dispose();
    copied.dispose();
    head.dispose();
  });

  it("'cuda' prepares on the GPU only, scores every call there, and has no sync score", async () => {
    simulateGpu();
    const c = fixture('zero vectors');
    const ep = makeEpisode(c);
    const head = headFor(c, ep.matcher, 'cuda');
    expect(head.device).toBe('cuda');
    const support = head.prepareSupportSync(ep.support, c.labels);
    expect(prepared).toHaveLength(1);
    expect(support.way).toBe(Math.max(...c.labels) + 1);
    expect(support.size).toBe(c.labels.length);
    const logits = await head.score(support, ep.query); // 24 pairs: still the GPU
    expect(head.lastDevice).toBe('cuda');
    expect(maxAbsDiff(logits, c.expected)).toBeLessThan(1e-4);
    expect(() => head.scoreSync(support, ep.query)).toThrow(TypeError);
    support.dispose();
    expect(prepared[0]!.disposed).toBe(true);
    head.dispose();
  });

  it("'auto' above the featureSize limit never touches the GPU", async () => {
    simulateGpu();
    const c = fixture('zero vectors');
    const ep = makeEpisode(c);
    const head = new Head({ channels: c.channels, featureSize: 6 });
    expect(head.device).toBe('cpu');
    head.dispose();
    const normal = headFor(c, ep.matcher, 'auto');
    expect(normal.device).toBe('cuda');
    normal.dispose();
    expect(prepared).toHaveLength(0);
  });
});

describe(`GPU head against the CPU head on the fixtures${cuda.available ? '' : ` (skipped: ${noDevice})`}`, () => {
  for (const c of fixtures.cases.filter((x) => x.feature_size <= 5)) {
    it.skipIf(!cuda.available /* no CUDA device, reason printed above */)(
      `${c.name}: 'cuda' logits within 1e-4 of 'cpu' and the fixture, same argmax`,
      async () => {
        const gpu = await run(c, 'cuda');
        const cpu = await run(c, 'cpu');
        expect(gpu.head.lastDevice).toBe('cuda');
        const way = Math.max(...c.labels) + 1;
        expect(maxAbsDiff(gpu.logits, cpu.logits)).toBeLessThan(1e-4);
        expect(maxAbsDiff(gpu.logits, c.expected)).toBeLessThan(1e-4);
        expect(argmaxRows(gpu.logits, way)).toEqual(argmaxRows(cpu.logits, way));
      },
    );
  }

  it.skipIf(!cuda.available /* no CUDA device, reason printed above */)(
    "'auto' on a real GPU: a call of CUDA_AUTO_MIN_PAIRS pairs runs there and agrees with the CPU",
    async () => {
      const c = fixture('5-way 1-shot');
      const ep = makeEpisode(c);
      const copies = Math.ceil(CUDA_AUTO_MIN_PAIRS / (c.labels.length * c.queries));
      const query = new Float32Array(copies * ep.query.length);
      for (let i = 0; i < copies; i++) query.set(ep.query, i * ep.query.length);
      const auto = await run(c, 'auto', query);
      expect(auto.head.lastDevice).toBe('cuda');
      const cpu = await run(c, 'cpu', query);
      expect(maxAbsDiff(auto.logits, cpu.logits)).toBeLessThan(1e-4);
      expect(argmaxRows(auto.logits, 5)).toEqual(argmaxRows(cpu.logits, 5));
    },
  );
});
