import { performance } from 'node:perf_hooks';
import type { LoadedCatalog } from '../src/catalog/index.ts';

// Measure what ships: the tsc build in dist/ (npm run bench builds first), not sources through tsx,
// whose transform adds work of its own. The paths are variables so the types come from src/.
const distCatalog = '../dist/catalog/index.js';
const distErrors = '../dist/errors/index.js';
const distPlan = '../dist/plan/index.js';
const { parseCatalog, restoreCatalog } = (await import(
  distCatalog
)) as typeof import('../src/catalog/index.ts');
const { UpliftError } = (await import(distErrors)) as typeof import('../src/errors/index.ts');
const { assemblePlan } = (await import(distPlan)) as typeof import('../src/plan/index.ts');

import { type CatalogShape, defaultShape, generateCatalog } from './generate-catalog.ts';
import { median, percentile, round } from './stats.ts';

export interface Scenario {
  from: string;
  to: string;
}

/** Plans from early and middle versions to `latest` and to middle targets. */
export const scenarios: readonly Scenario[] = [
  { from: '1.0.0', to: 'latest' },
  { from: '1.0.0', to: '5.5.0' },
  { from: '2.3.40', to: '8.3.50' },
  { from: '6.0.10', to: 'latest' },
  { from: '9.2.3', to: '10.0.0' },
];

const facts = {
  product: 'benchware',
  platform: { os: 'linux', arch: 'x86-64', id: 'linux-x86-64' },
  database: { type: 'postgresql', version: '15.4' },
  data: { fileTrackingRows: 250_000, installBytes: 412_000_000 },
  security: { tlsProtocols: ['TLSv1.2', 'TLSv1.3'] },
};

export interface ScenarioFigures extends Scenario {
  resolvedTo: string;
  hops: number;
  verdict: string;
  medianMs: number;
  p95Ms: number;
}

export interface PlannerFigures {
  catalog: {
    releases: number;
    edges: number;
    yamlBytes: number;
    generateMs: number;
    /** parseCatalog once, including its lazy import of the YAML parser and zod. */
    parseMs: number;
    /** restoreCatalog: the CLI's path for a catalog whose check is cached. */
    restoreMs: number;
  };
  warmupPlans: number;
  plans: number;
  plansPerSecond: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  scenarios: ScenarioFigures[];
  memory: { heapUsedMB: number; rssMB: number };
}

export interface PlannerOptions {
  shape?: CatalogShape;
  warmupRounds: number;
  /** Rounds over every scenario; at least `minRounds`, more until `minSeconds` have passed. */
  minRounds: number;
  minSeconds: number;
}

async function load(text: string): Promise<LoadedCatalog> {
  try {
    return await parseCatalog(text, 'bench-catalog.yaml');
  } catch (error) {
    if (error instanceof UpliftError) {
      console.error(`the generated catalog is invalid: ${error.message}`);
      for (const d of error.details ?? [])
        console.error(`  ${d.message}${d.hint ? `  (hint: ${d.hint})` : ''}`);
    }
    throw error;
  }
}

/** One plan; fails unless a path was found, so the timing is for real work. */
export function planOnce(catalog: LoadedCatalog, s: Scenario) {
  const p = assemblePlan({
    profile: 'bench',
    catalog,
    facts: { ...facts, version: s.from },
    from: s.from,
    to: s.to,
  });
  if (p.steps.length === 0 || p.verdict === 'blocked') {
    const why = p.reasons.map((r) => r.text).join('; ');
    throw new Error(
      `bench plan ${s.from} → ${s.to} found no usable path (verdict ${p.verdict}): ${why}`,
    );
  }
  return p;
}

export async function benchPlanner(options: PlannerOptions): Promise<PlannerFigures> {
  let t = performance.now();
  const generated = generateCatalog(options.shape ?? defaultShape);
  const generateMs = performance.now() - t;

  t = performance.now();
  const parsed = await load(generated.text);
  const parseMs = performance.now() - t;

  // The CLI's cached path: the checked catalog rebuilt without the YAML parser or the schema.
  t = performance.now();
  const restored = restoreCatalog(parsed.catalog, parsed.file, parsed.digest);
  const restoreMs = performance.now() - t;
  const catalog = parsed;

  for (let i = 0; i < options.warmupRounds; i++) for (const s of scenarios) planOnce(catalog, s);

  const times = scenarios.map((): number[] => []);
  const shapes = scenarios.map((s) => {
    const p = planOnce(catalog, s);
    if (planOnce(restored, s).hash !== p.hash)
      throw new Error(`restoreCatalog plans ${s.from} → ${s.to} differently`);
    return { resolvedTo: p.to, hops: p.steps.length, verdict: p.verdict, hash: p.hash };
  });
  const started = performance.now();
  let rounds = 0;
  while (rounds < options.minRounds || performance.now() - started < options.minSeconds * 1000) {
    scenarios.forEach((s, i) => {
      const t0 = performance.now();
      const p = planOnce(catalog, s);
      (times[i] as number[]).push(performance.now() - t0);
      if (p.hash !== shapes[i]?.hash)
        throw new Error(`plan ${s.from} → ${s.to} is not deterministic`);
    });
    rounds++;
  }
  const elapsed = performance.now() - started;
  const all = times.flat();
  const memory = process.memoryUsage();

  return {
    catalog: {
      releases: generated.releases,
      edges: generated.edges,
      yamlBytes: Buffer.byteLength(generated.text),
      generateMs: round(generateMs),
      parseMs: round(parseMs),
      restoreMs: round(restoreMs),
    },
    warmupPlans: options.warmupRounds * scenarios.length,
    plans: all.length,
    plansPerSecond: round((all.length / elapsed) * 1000),
    medianMs: round(median(all)),
    p95Ms: round(percentile(all, 95)),
    maxMs: round(Math.max(...all)),
    scenarios: scenarios.map((s, i) => ({
      ...s,
      resolvedTo: shapes[i]?.resolvedTo ?? '',
      hops: shapes[i]?.hops ?? 0,
      verdict: shapes[i]?.verdict ?? '',
      medianMs: round(median(times[i] ?? [])),
      p95Ms: round(percentile(times[i] ?? [], 95)),
    })),
    memory: {
      heapUsedMB: round(memory.heapUsed / 1_048_576),
      rssMB: round(memory.rss / 1_048_576),
    },
  };
}
