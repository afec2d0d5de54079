/**
 * Structure rules of the project (README "Rules"): no import cycle among src/ modules
 * (type-only and dynamic imports included: a cycle of any kind means two modules that
 * cannot be understood or changed apart) and no source file over 400 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const MAX_LINES = 400;
/** Generated files (none today): exempt from the size rule, named here with the generator. */
const GENERATED = new Set<string>();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of a module (static, type-only, re-exports and dynamic), as absolute .ts paths. */
export function localImports(file: string, text: string): string[] {
  const specs = new Set<string>();
  const patterns = [/\bfrom\s+['"](\.[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g, /^\s*import\s+['"](\.[^'"]+)['"]/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]!);
  return [...specs].map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every elementary cycle's first occurrence found by depth-first search, as lists of files. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('source structure', () => {
  const files = sourceFiles(srcDir);
  const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));

  it('finds the modules it checks', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.some((f) => f.endsWith(join('classifier', 'classifier.ts')))).toBe(true);
  });

  it('detects a cycle when there is one (the checker itself works)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(localImports('/x/src/m.ts', "import type { T } from './t.js';\nconst m = await import('../u.js');")).toEqual([
      '/x/src/t.ts',
      '/x/u.ts',
    ]);
  });

  it('has no import cycle in src/', () => {
    const graph = new Map(files.map((f) => [f, localImports(f, texts.get(f)!).filter((d) => texts.has(d))]));
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(root, f)).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines (outside generated code)`, () => {
    const long = files
      .filter((f) => !GENERATED.has(relative(root, f)))
      .map((f) => ({ file: relative(root, f), lines: texts.get(f)!.split('\n').length - (texts.get(f)!.endsWith('\n') ? 1 : 0) }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
