/**
 * `lwfm-spm pretrained ARCH OUTDIR`: an ImageNet-pretrained ResNet bundle in one command
 * (src/model/pretrained.ts). Download progress is a bar on a terminal and a plain line per
 * 10% otherwise; --quiet prints only the result.
 */
import { choiceOption, optionalInt, parseCommandArgs, stringList, stringOption, UsageError, type ParsedArgs } from '../args.js';
import { pretrainedSpec } from '../pretrained_spec.js';
import type { PretrainedOptions, PretrainedProgress } from '../../model/pretrained.js';
import { RESNET_ARCHS, type ResNetArch } from '../../model/resnet.js';

function numberOption(args: ParsedArgs, name: string, min: number, exclusive: boolean): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (exclusive ? n <= min : n < min))
    throw new UsageError(`--${name} expects a number ${exclusive ? '>' : '>='} ${min}, got '${raw}'`);
  return n;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Progress lines on stderr: an in-place bar on a terminal, a line per 10% otherwise. */
function progressPrinter(stream: NodeJS.WriteStream): (p: PretrainedProgress) => void {
  const started = Date.now();
  let lastTenth = -1;
  let lastDraw = 0;
  let barOpen = false;
  const endBar = (): void => {
    if (barOpen) stream.write('\n');
    barOpen = false;
  };
  return (p) => {
    if (p.phase !== 'download') {
      endBar();
      stream.write(
        p.phase === 'cached'
          ? `using verified cached weights ${p.path}\n`
          : p.phase === 'verify'
            ? 'verifying cached weights (SHA-256)\n'
            : 'building the bundle\n',
      );
      return;
    }
    const rate = p.received / Math.max(0.001, (Date.now() - started) / 1000);
    const of = p.total ? ` of ${mb(p.total)}` : '';
    if (stream.isTTY) {
      const now = Date.now();
      if (now - lastDraw < 100 && p.received !== p.total) return;
      lastDraw = now;
      const filled = p.total ? Math.round((24 * p.received) / p.total) : 0;
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(24 - filled)}] ${mb(p.received)}${of}  ${mb(rate)}/s\x1b[K`);
      barOpen = true;
      return;
    }
    const tenth = p.total ? Math.floor((10 * p.received) / p.total) : Math.floor(p.received / 10e6);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    stream.write(`downloaded ${mb(p.received)}${of} (${mb(rate)}/s)\n`);
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(pretrainedSpec, argv);
  if (args.help) {
    process.stdout.write(`${pretrainedSpec.help}\n`);
    return 0;
  }
  const [arch, out, ...extra] = args.positionals;
  if (arch === undefined || out === undefined) throw new UsageError(`pretrained needs ARCH (${RESNET_ARCHS.join(', ')}) and OUTDIR`);
  if (extra.length) throw new UsageError(`pretrained: unexpected argument '${extra[0]}'`);
  if (!RESNET_ARCHS.includes(arch as ResNetArch)) throw new UsageError(`ARCH must be one of ${RESNET_ARCHS.join(', ')}, got '${arch}'`);
  const taps = stringList(args, 'taps').flatMap((s) => s.split(/[,\s]+/).filter(Boolean));
  if (taps.some((t) => !/^\d+$/.test(t))) throw new UsageError(`--taps expects tap ids, e.g. --taps 7,8, got '${taps.join(',')}'`);
  const opts: PretrainedOptions = { arch: arch as ResNetArch, out, force: args.values.force === true };
  const from = stringOption(args, 'from');
  if (from !== undefined) opts.from = from;
  if (taps.length) opts.taps = taps.map(Number);
  const ints = {
    featureSize: optionalInt(args, 'feature-size', 1, 64),
    resize: optionalInt(args, 'resize', 16, 4096),
    crop: optionalInt(args, 'crop', 16, 4096),
    topK: optionalInt(args, 'top-k', 1, 4096),
  };
  for (const [k, v] of Object.entries(ints)) if (v !== undefined) (opts as unknown as Record<string, number>)[k] = v;
  if (stringOption(args, 'pooling') !== undefined)
    opts.pooling = choiceOption(args, 'pooling', ['average', 'bilinear'] as const, 'average');
  const temperatureAttn = numberOption(args, 'temperature-attn', 0, true);
  const temperature = numberOption(args, 'temperature', 0, true);
  const matcherWeight = numberOption(args, 'matcher-weight', 0, false);
  const timeout = numberOption(args, 'timeout', 0, true);
  if (temperatureAttn !== undefined) opts.temperatureAttn = temperatureAttn;
  if (temperature !== undefined) opts.temperature = temperature;
  if (matcherWeight !== undefined) opts.matcherWeight = matcherWeight;
  if (timeout !== undefined) opts.timeoutMs = timeout * 1000;
  if (args.values.quiet !== true) opts.onProgress = progressPrinter(process.stderr);
  if (stringOption(args, 'precision') !== undefined) opts.precision = choiceOption(args, 'precision', ['fp32', 'int8'] as const, 'fp32');
  const calibrate = stringOption(args, 'calibrate');
  if (calibrate !== undefined) {
    if (opts.precision !== 'int8') throw new UsageError('--calibrate needs --precision int8');
    opts.calibrate = calibrate;
  }

  const { buildPretrainedBundle } = await import('../../model/pretrained.js');
  const started = Date.now();
  const dir = await buildPretrainedBundle(opts);
  process.stdout.write(
    `wrote ${dir} (${arch}, ImageNet-pretrained${opts.precision === 'int8' ? ', int8' : ''}, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  if (args.values.quiet !== true)
    process.stdout.write(`classify with: lwfm-spm classify --model ${out} --support SUPPORT_DIR --query IMAGES\n`);
  return 0;
}
