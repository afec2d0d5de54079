/** Median of timing samples (mean of the two middle ones for an even count). */
export { median } from '../src/cli/bench/numbers.js';
