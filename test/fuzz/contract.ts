/**
 * What every public entry promises about its errors (README "Rules"): bad input is a
 * TypeError, a RangeError or an LwfmError subclass with a stable ERR_LWFM_* code; nothing
 * else escapes. Fuzz targets pass every caught error through `checkDocumentedError`.
 */
import { LwfmError } from '../../src/errors.js';

/** Throws (with the offending error as cause) unless `e` is a documented error. */
export function checkDocumentedError(e: unknown, where: string, allowed: readonly (abstract new (...a: never[]) => Error)[] = []): void {
  if (e instanceof TypeError || e instanceof RangeError) return;
  if (e instanceof LwfmError && typeof e.code === 'string' && e.code.startsWith('ERR_LWFM_')) return;
  if (allowed.some((k) => e instanceof k)) return;
  const text = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
  throw new Error(`${where}: undocumented error ${text}`, { cause: e });
}

/** Throws with `message` when `ok` is false (fast-check reports it with the counterexample). */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** Runs and size scale of a fuzz run: FUZZ_SCALE multiplies every target's run count (npm run fuzz sets 100). */
export function runsFor(base: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
