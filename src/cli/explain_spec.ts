/** Options and help of `lwfm-spm explain` (kept apart so specs.ts stays small). */
import { EXIT_CODES, MODEL_OPTIONS, MODEL_OPTIONS_HELP, type CommandSpec } from './args.js';

export const explainSpec: CommandSpec = {
  name: 'explain',
  summary: 'show why a query image got its prediction (PNG of the matches)',
  options: {
    ...MODEL_OPTIONS,
    support: { type: 'string', short: 's' },
    query: { type: 'string', short: 'q' },
    out: { type: 'string', short: 'o' },
    top: { type: 'string' },
    width: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm explain --support DIR --query IMAGE --out FILE.png [options]

Explains one prediction. Prints, for the best classes, the logit and its two terms
(global g and matching M, logit = (g + M) / T) and writes a PNG: per class, the query
and the class's best-matching support image as the model sees them, each with the
attention of the best tap as a red heat map on the F x F grid, lines between matched
pixel cells (the top-k matches yellow, thicker = more similar) and bars of g and M.

Options:
  -s, --support DIR   support images, DIR/<class>/<image> (required)
  -q, --query IMAGE   the query image (required)
  -o, --out FILE.png  where to write the picture (required unless --json)
      --top N         classes to show, best first (default 3)
      --width W       picture width in pixels, 320..4096 (default 960)
      --json          print the whole explanation as JSON
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};
