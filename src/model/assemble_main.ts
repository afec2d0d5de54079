/**
 * Entry point the Python checkpoint reader (tools/convert_checkpoint.py) runs to finish a
 * conversion: `node assemble_main.js STAGING OUTDIR [--force] [--source CHECKPOINT]`, where STAGING holds
 * `weights.safetensors` (backbone tensors in torchvision names), `model.json` (settings and
 * provenance) and optionally `matcher.safetensors`. The bundle's graph is then written by the
 * same TypeScript code as every other bundle. Errors: one line on stderr, exit status 1.
 */
import { join } from 'node:path';
import { readBundleFile, MAX_MODEL_JSON_BYTES, MAX_ONNX_BYTES } from './bundle_file.js';
import { readSafetensors } from './safetensors.js';
import { writeBundle } from './write_bundle.js';
import { existsSync } from 'node:fs';
import type { ModelConfig } from './config.js';

async function main(argv: string[]): Promise<number> {
  const force = argv.includes('--force');
  const s = argv.indexOf('--source');
  const source = s >= 0 ? argv[s + 1] : undefined;
  const [staging, out] = argv.filter((a, i) => a !== '--force' && i !== s && (s < 0 || i !== s + 1));
  if (!staging || !out) {
    process.stderr.write('usage: assemble_main STAGING OUTDIR [--force] [--source CHECKPOINT]\n');
    return 2;
  }
  const configFile = join(staging, 'model.json');
  const config = JSON.parse((await readBundleFile(configFile, MAX_MODEL_JSON_BYTES)).toString('utf8')) as ModelConfig;
  const weightsFile = join(staging, 'weights.safetensors');
  const weights = await readBundleFile(weightsFile, MAX_ONNX_BYTES);
  const matcherFile = join(staging, 'matcher.safetensors');
  const matcher = existsSync(matcherFile) ? readSafetensors(await readBundleFile(matcherFile, MAX_ONNX_BYTES)) : undefined;
  // Errors about the weights name the checkpoint they came from, not the staging copy.
  await writeBundle({ config, weights, weightsFile: source ?? weightsFile, matcher, out, force });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
