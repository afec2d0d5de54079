/** `lwfm-spm info`: version, native build, devices, threads, model. */
import { modelOptions, parseCommandArgs } from '../args.js';
import { UNTRAINED_NOTE } from '../format.js';
import { loadClassifier } from '../load_model.js';
import { infoSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(infoSpec, argv);
  if (args.help) {
    process.stdout.write(`${infoSpec.help}\n`);
    return 0;
  }
  const model = modelOptions(args);
  const json = args.values.json === true;
  await using classifier = await loadClassifier(model, json);
  const info = classifier.info();
  if (json) {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  const n = info.native;
  const lines = [
    `lwfm-spm ${info.version} (Node ${process.versions.node}, ${process.platform}-${process.arch})`,
    `Native addon: ${n.origin} ${n.path}`,
    `  CUDA compiled in: ${n.cuda ? 'yes' : 'no'}; SIMD in use: ${n.simd} (CPU supports ${n.cpuSimd}); hardware threads: ${n.hardwareThreads}`,
    `Devices in use: backbone ${info.devices.backbone}, head ${info.devices.head}`,
    `Threads: ${info.threads ?? 'default'}; backbone workers: ${info.workers ?? 'default'}`,
    `Model: ${info.model.dir}`,
    `  source ${info.model.source}; taps' channels [${info.model.channels.join(', ')}]; feature size ${info.model.featureSize}; input ${info.model.crop}x${info.model.crop}; trained: ${info.model.trained ? 'yes' : 'NO'}`,
  ];
  const q = info.model.quantization;
  lines.push(
    `  precision: ${info.model.precision ?? 'fp32'}${q ? ` (weights ${q.weights}, activations ${q.activations}; calibration ${q.method} ${q.percentile} on ${q.calibrationImages} images from ${q.calibrationSource}, sha256 ${q.calibrationSha256})` : ''}`,
  );
  if (!info.model.trained) lines.push('', UNTRAINED_NOTE);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
