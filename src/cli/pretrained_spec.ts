/** Options and help of `lwfm-spm pretrained` (kept apart so specs.ts stays small). */
import type { CommandSpec } from './args.js';

export const pretrainedSpec: CommandSpec = {
  name: 'pretrained',
  summary: 'build an ImageNet-pretrained ResNet-18/34/50 bundle (no Python)',
  positionals: true,
  options: {
    from: { type: 'string' },
    force: { type: 'boolean' },
    taps: { type: 'string', multiple: true },
    'feature-size': { type: 'string' },
    pooling: { type: 'string' },
    resize: { type: 'string' },
    crop: { type: 'string' },
    'temperature-attn': { type: 'string' },
    temperature: { type: 'string' },
    'matcher-weight': { type: 'string' },
    'top-k': { type: 'string' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    precision: { type: 'string' },
    calibrate: { type: 'string' },
  },
  help: `Usage: lwfm-spm pretrained resnet18|resnet34|resnet50 OUTDIR [options]

Builds a model bundle from torchvision's ImageNet weights for the architecture, as timm
publishes them on the Hugging Face Hub (timm/<arch>.tv_in1k, model.safetensors,
BSD-3-Clause). The file is downloaded once into the cache ($LWFM_SPM_CACHE, else
$XDG_CACHE_HOME/lwfm-spm or ~/.cache/lwfm-spm), verified by size and SHA-256 (the hub's
X-Linked-Etag) before use, and reused by later runs. HTTPS_PROXY / NO_PROXY are honoured.
The bundle uses torchvision's ImageNet normalisation and no matcher MLP.

Options:
      --from FILE            local safetensors file in timm/torchvision key naming;
                             nothing is downloaded
      --force                replace OUTDIR if it exists
      --taps 15,16           tapped blocks (default: the last two; resnet18 7,8,
                             resnet34/50 15,16)
      --feature-size F       pooled size (default 3)
      --pooling average|bilinear   (default average)
      --resize R / --crop S  preprocessing sizes (default 92 / 84; larger is slower
                             and usually more accurate)
      --temperature-attn T   (default 5)
      --temperature T        (default 0.2)
      --matcher-weight W     (default 0.25, applied without an MLP)
      --top-k K              (default 1)
      --timeout SECONDS      give up when the download stalls this long (default 60)
      --precision fp32|int8  int8: quantize the bundle (see 'lwfm-spm quantize')
      --calibrate DIR        with int8: calibration images of your domain (at least
                             32; default: the bundled samples, with a warning)
  -q, --quiet                no progress output
  -h, --help                 show this help

Exit codes: 0 done, 1 download or build failed (the message says why: HTTP status,
expected and received hash, missing tensors), 2 bad options.`,
};
