import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Folders are module boundaries: a file reaches another folder only through that folder's
 * `index.ts` (its public API) or `schema.ts` (its zod schemas, for composing schemas). The planner
 * stays pure: `plan/` never reaches the apply engine, transports or state.
 */
const src = import.meta.dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The top folder of a path under src/, e.g. `plan` for src/plan/find-path.ts. */
function area(file: string): string {
  return relative(src, file).split(sep)[0] ?? '';
}

const imports = sourceFiles(src).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => ({
    file: relative(src, file),
    target: resolve(dirname(file), m[1] as string),
    from: area(file),
  }));
});

describe('architecture', () => {
  it('finds the source tree', () => {
    expect(imports.length).toBeGreaterThan(50);
  });

  it('crosses folders only through index.ts or schema.ts', () => {
    const deep = imports.filter((i) => {
      const to = area(i.target);
      if (to === i.from || i.from.endsWith('.ts')) return false;
      const rest = relative(join(src, to), i.target);
      return rest !== 'index.ts' && rest !== 'schema.ts';
    });

    expect(deep.map((d) => `${d.file} → ${relative(src, d.target)}`)).toEqual([]);
  });

  it('keeps the planner pure', () => {
    const forbidden = ['apply', 'transport', 'state', 'cli'];
    const bad = imports.filter(
      (i) =>
        i.from === 'plan' && forbidden.includes(area(i.target)) && !i.file.endsWith('get-plan.ts'),
    );

    expect(bad).toEqual([]);
  });

  it('keeps zod off the start-up path of `uplift plan` (it costs more than planning)', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      // Static imports only: `await import()` is how heavy modules are deferred.
      for (const m of readFileSync(file, 'utf8').matchAll(
        /^(?:import|export)(?!\s+type\b)[^;]*?from\s+'([^']+)'/gm,
      )) {
        const spec = m[1] as string;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else packages.add(spec.split('/')[0] as string);
      }
    };
    walk(join(src, 'cli/main.ts'));
    walk(join(src, 'cli/program.ts'));
    walk(join(src, 'cli/commands/plan.ts'));

    expect(seen.size).toBeGreaterThan(15);
    expect([...packages]).not.toContain('zod');
  });
});
