/** `lwfm-spm eval`: accuracy and 95% CI over random episodes, with progress. */
import { EpisodeSampler } from '../../classifier/episodes.js';
import { describeSkipped, scanImageFolder } from '../../classifier/image_folder.js';
import { intOption, modelOptions, parseCommandArgs, seedOption, stringOption } from '../args.js';
import { formatMs, percent, UNTRAINED_NOTE } from '../format.js';
import { loadClassifier } from '../load_model.js';
import { Progress } from '../progress.js';
import { evalSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(evalSpec, argv);
  if (args.help) {
    process.stdout.write(`${evalSpec.help}\n`);
    return 0;
  }
  const model = modelOptions(args);
  const data = stringOption(args, 'data', true);
  const shape = {
    way: intOption(args, 'way', 5, 1, 100_000),
    shot: intOption(args, 'shot', 1, 1, 100_000),
    query: intOption(args, 'query', 15, 1, 100_000),
  };
  const episodes = intOption(args, 'episodes', 600);
  const seed = seedOption(args);
  const json = args.values.json === true;
  const quiet = args.values.quiet === true;
  // Fail on a bad dataset (missing, too few classes or images) before loading the model.
  const folder = scanImageFolder(data);
  new EpisodeSampler(folder, shape, seed);
  if (folder.skipped.length > 0) process.stderr.write(`lwfm-spm: warning: ${describeSkipped(folder.skipped)}\n`);
  if (shape.way === 1) {
    process.stderr.write(
      'lwfm-spm: warning: --way 1 gives every query the only class of its episode: accuracy is 100% by construction and says nothing about the model\n',
    );
  }

  await using classifier = await loadClassifier(model, json || quiet);
  const info = classifier.info();
  const untrained = !info.model.trained;
  if (untrained && !json) process.stderr.write(`${UNTRAINED_NOTE}\n`);
  const progress = new Progress(process.stderr, undefined, json || quiet);
  let result;
  try {
    result = await classifier.evaluate(data, {
      ...shape,
      episodes,
      seed,
      onProgress: (p) => progress.update({ done: p.done, total: p.episodes, rate: p.rate, etaMs: p.etaMs, accuracy: p.accuracy }),
      onWarning: (message) => progress.note(`warning: ${message}`),
    });
  } finally {
    progress.finish();
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ untrained, model: info.model, devices: info.devices, ...result }, null, 2)}\n`);
    return 0;
  }
  const e = result.perEpisode;
  const o = result.overhead;
  const lines = [
    `${shape.way}-way ${shape.shot}-shot, ${shape.query} queries per class, ${episodes} episodes, seed ${String(seed)}: ${data}`,
    `Accuracy: ${percent(result.accuracy)} +- ${percent(result.ci95)} (95% confidence interval)`,
    `Per episode (wall clock): embed ${formatMs(e.embed)} + head ${formatMs(e.head)} + other ${formatMs(e.other)} = total ${formatMs(e.total)}; inside embed, the workers decoded for ${formatMs(e.decode)} and ran the network for ${formatMs(e.backbone)}, overlapping`,
    `Head + glue: ${formatMs(o.headAndGlueMs / episodes)} per episode = ${(100 * o.fraction).toFixed(1)}% of the backbone stage`,
    `Devices: backbone ${info.devices.backbone}, head ${info.devices.head}`,
  ];
  if (result.skippedImages.length > 0) lines.push(`Skipped ${result.skippedImages.length} unreadable image(s).`);
  if (untrained) lines.push('', 'The model is untrained: this accuracy says nothing about LWFM-SPM itself.');
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
