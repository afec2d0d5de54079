/**
 * Every command's options and help text, in one light module: `--help` never loads
 * the model, onnxruntime or the native addon.
 */
import { EXIT_CODES, MODEL_OPTIONS, MODEL_OPTIONS_HELP, type CommandSpec } from './args.js';
import { queueSpec, workerSpec } from './queue_specs.js';
import { pretrainedSpec } from './pretrained_spec.js';
import { explainSpec } from './explain_spec.js';

export const demoSpec: CommandSpec = {
  name: 'demo',
  summary: 'run one 5-way episode on the bundled sample images',
  options: { ...MODEL_OPTIONS, seed: { type: 'string' }, shot: { type: 'string' }, query: { type: 'string' }, json: { type: 'boolean' } },
  help: `Usage: lwfm-spm demo [options]

Runs one full 5-way few-shot episode on the small sample set shipped with the package
(shapes and textures rendered by tools/make_samples.mjs) and prints every prediction
against its truth, the accuracy and the time spent per stage. Without --model it uses
the embedded default model, which is UNTRAINED: expect accuracy near chance.

Options:
      --shot K        support images per class (default 1)
      --query N       query images per class (default 3)
      --seed S        episode seed (default 0)
      --json          print one JSON object instead of text
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};

export const classifySpec: CommandSpec = {
  name: 'classify',
  summary: 'classify images against a support folder',
  positionals: true,
  options: {
    ...MODEL_OPTIONS,
    support: { type: 'string', short: 's' },
    query: { type: 'string', short: 'q', multiple: true },
    json: { type: 'boolean' },
    jsonl: { type: 'boolean' },
    'batch-size': { type: 'string' },
    quiet: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm classify --support DIR --query DIR|FILE [DIR|FILE...] [options]

Classifies query images against a support set in ImageFolder layout: every
subdirectory of --support is a class and its images are that class's shots.
A query DIR contributes its images; its subdirectories' images too, with the
subdirectory name taken as the truth (then the accuracy is printed).
An unreadable query is reported in its row; the others are still classified and
the exit code is 1. Progress (images done, rate, ETA) goes to stderr: a bar on a
terminal, plain lines otherwise.

Options:
  -s, --support DIR   support images, DIR/<class>/<image> (required)
  -q, --query PATH    query image or directory; repeatable, and further paths may
                      follow as plain arguments (required)
      --json          print one JSON object instead of a table (no progress)
      --jsonl         stream JSON Lines, one per query as it is classified
                      ({inputIndex, file, truth, label, index, probability,
                      probabilities, logits} or {inputIndex, file, truth, error}), for
                      directories of any size: read lazily in directory order, memory
                      bounded; Ctrl-C stops cleanly (complete lines, exit code 130)
      --batch-size N  images per backbone batch with --jsonl (default 80)
      --quiet         no progress output
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'few-shot accuracy over random episodes of an ImageFolder dataset',
  options: {
    ...MODEL_OPTIONS,
    data: { type: 'string', short: 'd' },
    way: { type: 'string' },
    shot: { type: 'string' },
    query: { type: 'string' },
    episodes: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm eval --data DIR [options]

Samples N-way K-shot episodes from DIR/<class>/<image> (deterministic for a seed) and
reports the mean accuracy with its 95% confidence interval (1.96 * std / sqrt(episodes)),
and where the time goes (backbone vs. head and glue). Progress goes to stderr: a bar
on a terminal, plain lines otherwise. Unreadable images are skipped with a warning.

Options:
  -d, --data DIR      dataset root (required)
      --way N         classes per episode (default 5)
      --shot K        support images per class (default 1)
      --query Q       query images per class (default 15)
      --episodes E    number of episodes (default 600)
      --seed S        sampler seed (default 0)
      --json          print the result as JSON on stdout (no progress)
      --quiet         no progress output
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};

export const infoSpec: CommandSpec = {
  name: 'info',
  summary: 'package version, native build, devices, threads and model',
  options: { ...MODEL_OPTIONS, json: { type: 'boolean' } },
  help: `Usage: lwfm-spm info [options]

Loads the model and prints the package version, the native build (where it was loaded
from, whether CUDA is compiled in, the SIMD path), the devices in use for the backbone
and the head, threads, and the model bundle.

Options:
      --json          print JSON
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};

export const convertSpec: CommandSpec = {
  name: 'convert',
  summary: "convert an authors' PyTorch checkpoint into a model bundle",
  positionals: true,
  options: {},
  help: `Usage: lwfm-spm convert CHECKPOINT OUTDIR [options]

Converts a checkpoint trained with the authors' code (or a plain torchvision resnet18/34/50
state dict) into a model bundle directory for --model. Runs tools/convert_checkpoint.py
with python3 and PyTorch to read the checkpoint (says what to install when they are
missing); the bundle's ONNX graph is written by lwfm-spm's TypeScript writer.

Options (passed to the converter):
      --arch resnet18|resnet34|resnet50   backbone (default: what the checkpoint's keys show)
      --taps 7 8                   tapped blocks (default: the last two, 7 8 for resnet18)
      --feature-size F             pooled size (default 3)
      --pooling average|bilinear   (default average)
      --temperature-attn T         (default 5)
      --temperature T              (default 0.2)
      --matcher-weight W           (default 0.25; without matcher MLPs applied without one)
      --top-k K                    (default 1)
      --norm authors|torchvision|cifar
                                   authors = the authors' constants (125.3/123.0/113.9 over 255,
                                   CIFAR-10's statistics; the old name 'imagenet'),
                                   torchvision = ImageNet 0.485/0.456/0.406 over 0.229/0.224/0.225,
                                   cifar = CIFAR-100's (default: authors for the authors' layout,
                                   torchvision for a torchvision state dict)
      --resize R / --crop S        preprocessing sizes (default 92 / 84)
      --force                      replace OUTDIR if it exists
      --precision fp32|int8        int8: quantize the bundle after converting (see
                                   'lwfm-spm quantize'; default fp32)
      --calibrate DIR              with int8: calibration images of your domain (at
                                   least 32; default: the bundled samples, with a warning)
  -h, --help                       show this help

Exit codes: 0 done, 1 the checkpoint cannot be converted (one line says why),
2 bad options, 3 python3 with numpy and torch not found (the message says what to install).
The bundle format is described in docs/model-bundle.md.`,
};

export const benchSpec: CommandSpec = {
  name: 'bench',
  summary: 'measure assignment and head speed on this machine',
  positionals: true,
  options: {},
  help: `Usage: lwfm-spm bench match|head [options]
       lwfm-spm bench peers [SUITE...] [--no-write]

  match   microseconds per exact assignment problem (random cosine costs), for each
          size, on 1 thread and on T threads
  head    one LWFM-SPM episode on random features: prepare + score milliseconds and
          the engine's per-stage split
  peers   the source checkout's comparison suite (benchmarks/run.ts: SciPy, npm
          solvers, the authors' code); SUITE: match, assignment, head, backbone, all,
          or queue (Redis + worker processes; needs redis-server). Rewrites benchmarks/RESULTS.md unless --no-write.

match and head ship with the package: they warm up, report medians, and print the
machine line (CPU, the SIMD path the addon used, threads, Node). Each has --help.

${EXIT_CODES}`,
};

export const benchMatchSpec: CommandSpec = {
  name: 'bench match',
  summary: 'exact assignment microbenchmark',
  options: {
    sizes: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    repeats: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm bench match [--sizes 9,25,49,100] [--batch N] [--threads T] [--json]

Times the exact batched assignment (solveAssignmentsSync on one thread, solveAssignments
on T threads) on random n x n cosine-cost matrices, the costs the head's pixel matching
solves (9 x 9 for 3 x 3 features, 25, 49, 100 for 5, 7, 10). Two warm-up runs, then the
median of --repeats runs; prints microseconds per problem and the machine line.

Options:
      --sizes LIST    matrix sizes n (default 9,25,49,100)
      --batch N       problems per timed run (default: about 50 ms of work per size)
      --threads T     threads for the parallel run (default: all hardware threads)
      --repeats R     timed runs per size (default 7)
      --json          print JSON
  -h, --help          show this help

${EXIT_CODES}`,
};

export const benchHeadSpec: CommandSpec = {
  name: 'bench head',
  summary: 'LWFM-SPM head microbenchmark',
  options: {
    way: { type: 'string' },
    shot: { type: 'string' },
    queries: { type: 'string' },
    channels: { type: 'string' },
    'feature-size': { type: 'string' },
    matcher: { type: 'boolean' },
    threads: { type: 'string' },
    repeats: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm bench head [--way 5 --shot 1 --queries 75] [--channels 512,512] [--feature-size 3] [options]

Times one few-shot episode of the LWFM-SPM head on the CPU engine with random features
of the given shape: prepareSupport (way x shot images) + score (queries), two warm-up
episodes, then the median of --repeats; prints the total, prepare and score, the
engine's per-stage split, and the machine line. The backbone is not included (its time
depends on the model and the images: see lwfm-spm eval's timings).

Options:
      --way N           classes (default 5)
      --shot K          support images per class (default 1)
      --queries Q       query images in the episode (default 75)
      --channels LIST   channels per tap (default 512,512: ResNet-18 taps 7 and 8)
      --feature-size F  pixels per side of each tap (default 3)
      --matcher         include random matcher MLPs, as trained models have
      --threads T       head threads (default: all hardware threads)
      --repeats R       timed episodes (default 11)
      --json            print JSON
  -h, --help            show this help

${EXIT_CODES}`,
};

export const quantizeSpec: CommandSpec = {
  name: 'quantize',
  summary: 'make an int8 copy of a model bundle (calibrated on your images)',
  positionals: true,
  options: {
    model: { type: 'string', short: 'm' },
    calibrate: { type: 'string' },
    percentile: { type: 'string' },
    'max-images': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm quantize OUTDIR [--model DIR] [--calibrate DIR] [options]

Writes an int8 copy of a model bundle into OUTDIR: int8 weights (symmetric, per output
channel) and 8-bit activations whose ranges come from running the fp32 model on
calibration images (percentile of each tensor's histogram). ONNX Runtime runs the
convolutions and residual sums with int8 kernels; the head and its outputs are unchanged.
model.json records the precision and the calibration (method, size, SHA-256).

Options:
  -m, --model DIR       the fp32 bundle (default: the embedded, UNTRAINED default model)
      --calibrate DIR   images of your domain, searched recursively, at least 32
                        (default: the bundled samples, with a warning)
      --percentile P    histogram percentile of the activation ranges (default 99.99)
      --max-images N    use at most N calibration images, evenly spaced (default 256)
      --threads N       ONNX Runtime threads for calibration
      --json            print model.json's quantization record as JSON
  -h, --help            show this help

${EXIT_CODES}`,
};

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'HTTP service: named support sets, classify, embed (Fastify)',
  options: {
    ...MODEL_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    'api-key-file': { type: 'string' },
    store: { type: 'string' },
    'max-concurrent': { type: 'string' },
    'max-queue': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'max-image-bytes': { type: 'string' },
    'max-images': { type: 'string' },
    'max-pixels': { type: 'string' },
    'max-support-sets': { type: 'string' },
    'max-support-images': { type: 'string' },
    'grace-ms': { type: 'string' },
    'log-level': { type: 'string' },
  },
  help: `Usage: lwfm-spm serve [options]

Serves the few-shot classifier over HTTP (the lwfm-spm/fastify plugin on a bare
Fastify app): POST /v1/support-sets, POST /v1/support-sets/:id/classify,
POST /v1/classify-episode, POST /v1/embed, GET /healthz, /readyz, /metrics,
/v1/info, /openapi.json. Images are multipart/form-data file parts named 'image'.
Prints 'listening on http://HOST:PORT' on stdout once ready; logs go to stderr.
SIGTERM/SIGINT: stop accepting, finish requests in flight (up to --grace-ms), flush
the store, exit 0. A second signal ends the process at once with exit code
128 + the signal's number (130 for SIGINT, 143 for SIGTERM); the grace period
running out ends it with exit code 1.

Options:
      --host H                  address to bind (default 127.0.0.1)
  -p, --port N                  port (default 8080; 0 picks a free one)
      --api-key-file F          require 'Authorization: Bearer <key>'; F holds the
                                accepted keys, one per line (16+ characters)
      --store DIR               persist support sets in DIR (one file per set)
      --max-concurrent N        requests doing model work at once (default 4)
      --max-queue N             requests waiting for a slot, then 503 (default 32)
      --timeout-ms N            per-request limit, waiting included (default 30000)
      --max-image-bytes N       largest image part (default 10485760)
      --max-images N            most images per request (default 64)
      --max-pixels N            most pixels per image, before decoding (default 40000000)
      --max-support-sets N      most support sets held (default 1000)
      --max-support-images N    most support images over all sets (default 20000)
      --grace-ms N              shutdown grace period (default 30000)
      --log-level L             fatal | error | warn | info (default) | debug | silent
${MODEL_OPTIONS_HELP}
  -h, --help                    show this help

${EXIT_CODES}`,
};

export const COMMANDS: readonly CommandSpec[] = [
  demoSpec,
  classifySpec,
  explainSpec,
  evalSpec,
  convertSpec,
  pretrainedSpec,
  quantizeSpec,
  infoSpec,
  benchSpec,
  workerSpec,
  queueSpec,
  serveSpec,
];

/** Top-level help. */
export function mainHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `lwfm-spm ${version}: few-shot image classification with LWFM-SPM

Usage: lwfm-spm <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'lwfm-spm <command> --help' for a command's options.
Options: -h, --help   this help;  -v, --version   the version

${EXIT_CODES}`;
}
