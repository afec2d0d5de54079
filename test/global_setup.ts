// Once per vitest run, before any test file: the test addon with the native test hooks
// (scripts/build-test-addon.mjs; nothing to do when it is up to date).
// @ts-expect-error -- a plain ES module script without type declarations
import { buildTestAddon } from '../scripts/build-test-addon.mjs';

export default async function setup(): Promise<void> {
  await (buildTestAddon as () => Promise<void>)();
}
