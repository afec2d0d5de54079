/** Where the CLI finds package files, from src/cli (tsx) or dist/cli (published) alike. */
import { resolve } from 'node:path';
import { packageRoot } from '../package_info.js';

export { packageRoot, packageVersion } from '../package_info.js';

/** The bundled sample ImageFolder used by `lwfm-spm demo`. */
export const samplesDir = resolve(packageRoot, 'samples');
