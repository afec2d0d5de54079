/**
 * House style: every public export (what src/index.ts exports) carries JSDoc with an
 * `@example`. Walks the exports with the TypeScript compiler, so a new export without one
 * fails here instead of shipping undocumented.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './support/cli.js';

describe('public API documentation', () => {
  // Every package entry point: lwfm-spm and lwfm-spm/queue.
  it.each([['index.ts'], ['queue/index.ts']])('gives every export of src/%s a JSDoc @example', (file) => {
    const entry = join(repoRoot, 'src', file);
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry)!;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
    expect(exports.length).toBeGreaterThan(10);
    const missing = exports
      .map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s))
      .filter((s) => {
        const declarations = s.getDeclarations() ?? [];
        // Declared in this package (not a re-exported dependency type), and no @example on any declaration.
        const ours = declarations.some((d) => d.getSourceFile().fileName.startsWith(join(repoRoot, 'src')));
        const hasExample = declarations.some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === 'example'));
        return ours && !hasExample;
      })
      .map((s) => s.getName());
    expect(missing, `exports without a JSDoc @example: ${missing.join(', ')}`).toEqual([]);
  });
});
