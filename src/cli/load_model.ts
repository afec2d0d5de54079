/** Loading the classifier for a CLI command, with a status line on stderr. */
import { FewShotClassifier } from '../classifier/classifier.js';
import type { modelOptions } from './args.js';

/** Loads the model named by --model (or the default one) with --device/--threads/--workers. */
export async function loadClassifier(options: ReturnType<typeof modelOptions>, quiet = false): Promise<FewShotClassifier> {
  const { model, load } = options;
  if (!quiet) process.stderr.write(`Loading ${model === undefined ? 'the default model' : `model ${model}`}...\n`);
  return FewShotClassifier.load(model, load);
}
