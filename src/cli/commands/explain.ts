/** `lwfm-spm explain`: why one query image got its prediction, as a PNG and a summary. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatasetError } from '../../classifier/dataset_error.js';
import { scanImageFolder } from '../../classifier/image_folder.js';
import { renderExplanation } from '../../explain/render.js';
import { UsageError, intOption, modelOptions, parseCommandArgs, stringOption } from '../args.js';
import { table, UNTRAINED_NOTE } from '../format.js';
import { loadClassifier } from '../load_model.js';
import { explainSpec } from '../explain_spec.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(explainSpec, argv);
  if (args.help) {
    process.stdout.write(`${explainSpec.help}\n`);
    return 0;
  }
  const model = modelOptions(args);
  const supportDir = stringOption(args, 'support', true);
  const query = stringOption(args, 'query', true);
  const out = stringOption(args, 'out', false);
  const json = args.values.json === true;
  if (out === undefined && !json) throw new UsageError('missing --out FILE.png (or --json for the numbers only)');
  const topClasses = intOption(args, 'top', 3, 1, 1000);
  const width = intOption(args, 'width', 960, 320, 4096);

  const folder = scanImageFolder(supportDir);
  const empty = folder.classes.filter((c) => c.files.length === 0);
  if (empty.length > 0) {
    throw new DatasetError(folder.root, `every support class needs at least one image; empty: ${empty.map((c) => c.name).join(', ')}`);
  }
  await using classifier = await loadClassifier(model, json);
  await classifier.setSupport(
    folder.classes.flatMap((c) => c.files),
    folder.classes.flatMap((c) => c.files.map(() => c.name)),
  );
  const explanation = await classifier.explain(resolve(query), { topClasses });
  if (out !== undefined) writeFileSync(resolve(out), await renderExplanation(explanation, { width }));
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ untrained: !classifier.info().model.trained, explanation, png: out ? resolve(out) : null })}\n`,
    );
    return 0;
  }
  const lines: string[] = [];
  if (!classifier.info().model.trained) lines.push(UNTRAINED_NOTE, '');
  lines.push(
    `Prediction for ${resolve(query)}: ${explanation.prediction.label} (p = ${explanation.prediction.probability.toFixed(3)})`,
    '',
  );
  lines.push(
    table(
      ['class', 'logit', 'global g', 'matching M', 'best support image'],
      explanation.classes.map((c) => [
        String(c.label),
        c.logit.toFixed(3),
        c.global.toFixed(4),
        c.matching.toFixed(4),
        typeof c.supports[0]?.source === 'string' ? c.supports[0].source : '',
      ]),
    ),
  );
  lines.push('', `logit = (g + M) / T with T = ${explanation.temperature}`, `Picture: ${resolve(out!)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
