import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Folders are module boundaries: a file reaches another folder only through that folder's
 * `index.ts` (its public API), `schema.ts` (its zod schemas, for composing schemas) or, with `import
 * type` only, `types.ts` (the contract a folder is coded against: topology, transport, state, balancer). The planner
 * stays pure: `plan/` never reaches a folder that does I/O on installations, packs or the network
 * (only `get-plan.ts`, its I/O shell, reads profiles and detects facts). No two folders import each
 * other at run time, and no code names a product: products live in profiles/ and products/.
 */
const src = import.meta.dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    // .tsx too: the report's React components (src/report/components) are code like any other.
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** The top folder of a path under src/, e.g. `plan` for src/plan/find-path.ts. */
function area(file: string): string {
  return relative(src, file).split(sep)[0] ?? '';
}

const imports = sourceFiles(src).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => {
    // The statement the specifier ends: from the last line before it that opens an import or export.
    const starts = [...text.slice(0, m.index).matchAll(/^[ \t]*(?:import|export)\b/gm)];
    const statement = text.slice(starts.at(-1)?.index ?? m.index);
    return {
      file: relative(src, file),
      target: resolve(dirname(file), m[1] as string),
      from: area(file),
      typeOnly: !m[0].includes('(') && /^[ \t]*(?:import|export)\s+type\b/.test(statement),
    };
  });
});

/**
 * Imports that exist at run time, with their line: `import type` and `export type` are erased, and
 * `await import()` loads a module just as surely (later).
 */
const runtimeImports = sourceFiles(src).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /^[ \t]*(?:import|export)(?!\s+type\b)[^;]*?from\s+'(\.{1,2}\/[^']+)'|\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/gm,
    ),
  ].map((m) => ({
    file: relative(src, file),
    line: text.slice(0, m.index).split('\n').length,
    target: resolve(dirname(file), (m[1] ?? m[2]) as string),
    from: area(file),
  }));
});

/** The strongly connected groups of more than one folder (Tarjan), each as one cycle through it. */
function folderCycles(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w))
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  // One cycle per group: a shortest path back to the group's first folder, found breadth-first.
  return groups.map((group) => {
    const start = [...group].sort()[0] as string;
    const back = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift() as string;
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!group.includes(w) || back.has(w)) continue;
        back.set(w, v);
        if (w === start) queue.length = 0;
        else queue.push(w);
      }
    }
    const cycle = [start];
    for (let v = back.get(start); v !== undefined && v !== start; v = back.get(v)) cycle.unshift(v);
    return cycle;
  });
}

/**
 * The code without its comments (line, block and JSDoc comments), strings kept, lines kept in place: a
 * product's name in a comment is tolerated, in code it is not.
 */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, '');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

describe('architecture', () => {
  it('finds the source tree, .tsx files included', () => {
    expect(imports.length).toBeGreaterThan(50);
    expect(imports.some((i) => i.file.endsWith('.tsx'))).toBe(true);
  });

  it('crosses folders only through index.ts or schema.ts (types.ts: type-only)', () => {
    // A folder's types.ts is its contract: other folders may code against it with `import type`.
    const deep = imports.filter((i) => {
      const to = area(i.target);
      if (to === i.from || i.from.endsWith('.ts')) return false;
      const rest = relative(join(src, to), i.target);
      if (rest === 'types.ts' && i.typeOnly) return false;
      // The dashboard draws plans with the report's components, as the HTML report does.
      if (i.from === 'dashboard' && to === 'report' && rest === join('components', 'index.ts'))
        return false;
      return rest !== 'index.ts' && rest !== 'schema.ts';
    });

    expect(deep.map((d) => `${d.file} → ${relative(src, d.target)}`)).toEqual([]);
  });

  it('keeps the planner pure', () => {
    // Every folder that changes or reads installations, packs, repositories or processes.
    const io = [
      'apply',
      'backup',
      'balancer',
      'cli',
      'estimate',
      'fetch',
      'lifecycle',
      'pack',
      'repo',
      'serve',
      'signing',
      'state',
      'topology',
      'traffic',
      'transport',
    ];
    const bad = imports.filter(
      (i) => i.from === 'plan' && io.includes(area(i.target)) && !i.file.endsWith('get-plan.ts'),
    );

    expect(io.filter((f) => !existsSync(join(src, f)))).toEqual([]);
    expect(bad.map((b) => `${b.file} → ${relative(src, b.target)}`)).toEqual([]);
  });

  it('has no import cycle between folders at run time', () => {
    const edges = new Map<string, Map<string, string>>();
    for (const i of runtimeImports) {
      const to = area(i.target);
      if (to === i.from || i.from.endsWith('.ts') || to.endsWith('.ts')) continue;
      const out = edges.get(i.from) ?? new Map<string, string>();
      if (!out.has(to)) out.set(to, `${i.file}:${i.line}`);
      edges.set(i.from, out);
    }

    const cycles = folderCycles(edges).map((cycle) =>
      cycle
        .map((from, k) => {
          const to = cycle[(k + 1) % cycle.length] as string;
          return `${from} → ${to} (${edges.get(from)?.get(to)})`;
        })
        .join(', '),
    );

    expect(cycles).toEqual([]);
  });

  it('names no product in code (products belong in profiles/ and products/)', () => {
    const root = join(src, '..');
    const products = ['profiles', 'products'].flatMap((d) =>
      existsSync(join(root, d))
        ? readdirSync(join(root, d), { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => e.name)
        : [],
    );
    const named = new RegExp(`(?<![a-z])(${[...new Set(products)].join('|')})(?![a-z])`, 'i');

    const offenders = sourceFiles(src).flatMap((file) =>
      stripComments(readFileSync(file, 'utf8'))
        .split('\n')
        .flatMap((line, k) => {
          const m = named.exec(line);
          return m ? [`${relative(src, file)}:${k + 1}: ${m[1]}`] : [];
        }),
    );

    expect(products.length).toBeGreaterThan(1);
    expect(offenders).toEqual([]);
  });

  it('keeps the dashboard browser code: no Node module, no server folder at run time', () => {
    // src/dashboard runs in the browser (vite build): at run time it reaches only the report's
    // components; the API's and the report model's shapes come in as types, which are erased.
    const dashboard = sourceFiles(join(src, 'dashboard'));
    const outside = runtimeImports.filter(
      (i) =>
        i.from === 'dashboard' &&
        area(i.target) !== 'dashboard' &&
        relative(src, i.target) !== join('report', 'components', 'index.ts'),
    );
    const packages = dashboard.flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /^[ \t]*(?:import|export)(?!\s+type\b)[^;]*?from\s+'([^'.][^']*)'|^[ \t]*import\s+'([^'.][^']*)'/gm,
        ),
      ].map((m) => `${relative(src, file)}: ${m[1] ?? m[2]}`),
    );

    expect(dashboard.length).toBeGreaterThan(5);
    expect(outside.map((i) => `${i.file}:${i.line} → ${relative(src, i.target)}`)).toEqual([]);
    expect(packages.filter((p) => !/: (react|react-dom\/client)$/.test(p))).toEqual([]);
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
    // program.ts loads only the registration of the command that runs, then its handler.
    walk(join(src, 'cli/commands/plan-command.ts'));
    walk(join(src, 'cli/commands/plan.ts'));

    expect(seen.size).toBeGreaterThan(15);
    expect([...packages]).not.toContain('zod');
  });
});
