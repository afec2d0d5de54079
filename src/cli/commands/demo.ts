/** `lwfm-spm demo`: one 5-way episode on the bundled samples, predictions vs truth. */
import { relative } from 'node:path';
import { EpisodeSampler } from '../../classifier/episodes.js';
import { scanImageFolder } from '../../classifier/image_folder.js';
import { intOption, modelOptions, parseCommandArgs, seedOption } from '../args.js';
import { percent, table, timingsLine, UNTRAINED_NOTE } from '../format.js';
import { loadClassifier } from '../load_model.js';
import { packageRoot, samplesDir } from '../paths.js';
import { demoSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(demoSpec, argv);
  if (args.help) {
    process.stdout.write(`${demoSpec.help}\n`);
    return 0;
  }
  const model = modelOptions(args);
  const shot = intOption(args, 'shot', 1, 1, 1000);
  const query = intOption(args, 'query', 3, 1, 1000);
  const seed = seedOption(args);
  const json = args.values.json === true;
  const episode = new EpisodeSampler(scanImageFolder(samplesDir), { way: 5, shot, query }, seed).next();

  await using classifier = await loadClassifier(model, json);
  const info = classifier.info();
  const untrained = !info.model.trained;
  const results = await classifier.classifyEpisode(
    episode.support.map((x) => x.file),
    episode.support.map((x) => episode.classes[x.label]!),
    episode.query.map((x) => x.file),
  );
  const rows = episode.query.map((q, i) => {
    const r = results[i]!;
    const truth = episode.classes[q.label]!;
    return {
      file: relative(packageRoot, q.file),
      truth,
      predicted: r.error ? null : r.label,
      probability: r.error ? null : r.probabilities[r.index],
      error: r.error?.message ?? null,
    };
  });
  const correct = rows.filter((r) => r.predicted === r.truth).length;
  const accuracy = correct / rows.length;

  if (json) {
    process.stdout.write(
      `${JSON.stringify({ untrained, model: info.model, devices: info.devices, way: 5, shot, query, seed, classes: episode.classes, support: episode.support.map((x) => relative(packageRoot, x.file)), predictions: rows, accuracy, timings: results.timings }, null, 2)}\n`,
    );
    return 0;
  }
  const out: string[] = [];
  if (untrained) out.push(UNTRAINED_NOTE, '');
  out.push(
    `5-way ${shot}-shot episode on the bundled samples (seed ${String(seed)}), ${info.devices.backbone.toUpperCase()} backbone, ${info.devices.head.toUpperCase()} head`,
  );
  out.push(`Support: ${episode.support.map((x) => relative(samplesDir, x.file)).join(', ')}`, '');
  out.push(
    table(
      ['query', 'truth', 'predicted', 'p', ''],
      rows.map((r) => [
        r.file,
        r.truth,
        r.error ? `error: ${r.error}` : String(r.predicted),
        r.probability === null ? '' : r.probability!.toFixed(3),
        r.predicted === r.truth ? 'ok' : 'x',
      ]),
    ),
  );
  const t = results.timings;
  out.push('', `Accuracy: ${correct}/${rows.length} = ${percent(accuracy)} (chance: 20.00%)`);
  out.push(`${timingsLine(t)} (first call: includes warm-up)`);
  if (untrained) out.push('', 'The default model is untrained, so this accuracy says nothing about LWFM-SPM itself.');
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
