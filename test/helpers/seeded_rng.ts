/** The one seeded RNG (mulberry32) of the tests and benchmarks: every run sees the same data. */
export { rng } from '../../src/cli/bench/numbers.js';
