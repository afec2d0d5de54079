// Runs one fuzz target in this process and prints one JSON line; a crash of the process
// (a signal, an abort) is what test/fuzz.test.ts looks for from outside.
//   node --import tsx test/fuzz/run.ts <target> [--seed N]   (FUZZ_SCALE multiplies the runs)
const targets: Record<string, () => Promise<{ default: (seed: number) => Promise<number> }>> = {
  assignment: () => import('./targets/assignment.js'),
  head: () => import('./targets/head.js'),
  bundle: () => import('./targets/bundle.js'),
  image: () => import('./targets/image.js'),
  cli: () => import('./targets/cli.js'),
  buffers: () => import('./targets/buffers.js'),
};

const name = process.argv[2] ?? '';
const seedAt = process.argv.indexOf('--seed');
const seed = seedAt > 0 ? Number(process.argv[seedAt + 1]) : Date.now() % 2 ** 31;
if (!targets[name]) {
  console.error(`unknown fuzz target '${name}'; known: ${Object.keys(targets).join(', ')}`);
  process.exit(2);
}
const t0 = performance.now();
try {
  const runs = await (await targets[name]!()).default(seed);
  console.log(JSON.stringify({ target: name, seed, runs, ms: Math.round(performance.now() - t0) }));
} catch (e) {
  const cause = (e as Error)?.cause as Error | undefined;
  console.error(
    `fuzz target ${name} failed (seed ${seed}):\n${(e as Error)?.message ?? String(e)}${cause ? `\ncaused by: ${cause.stack ?? String(cause)}` : ''}`,
  );
  process.exitCode = 1;
}
