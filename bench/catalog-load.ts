import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultShape, generateCatalog } from './generate-catalog.ts';
import { planOnce, scenarios } from './planner.ts';
import { median, percentile, round } from './stats.ts';

// The tsc build, as planner.ts does: what ships, not sources through tsx.
const distCatalog = '../dist/catalog/index.js';
const { loadCatalogCached } = (await import(
  distCatalog
)) as typeof import('../src/catalog/index.ts');

export interface CatalogLoadFigures {
  releases: number;
  edges: number;
  yamlBytes: number;
  /** A full check of the file (YAML, schema, cross-field rules), the cache off; median of `coldRuns`. */
  cold: { runs: number; medianMs: number; minMs: number; mbPerSecond: number };
  /** The same file again with a warm cache entry; every run must be a hit. */
  cached: { runs: number; medianMs: number; p95Ms: number; minMs: number };
  /** Plans over the catalog the cache gave back, every bench scenario in each round. */
  plan: { plans: number; medianMs: number; p95Ms: number };
}

export interface CatalogLoadOptions {
  coldRuns: number;
  cachedRuns: number;
  planRounds: number;
}

/**
 * Loads the generated 10,000-release catalog from a file the way the CLI does (`loadCatalog`):
 * cold with `UPLIFT_CACHE_DIR=off`, then cached from a fresh cache folder, then plans on the
 * catalog the cache restored, which must plan exactly as the fully checked one.
 */
export async function benchCatalogLoad(o: CatalogLoadOptions): Promise<CatalogLoadFigures> {
  const generated = generateCatalog(defaultShape);
  const work = mkdtempSync(join(tmpdir(), 'uplift-bench-catalog-'));
  const file = join(work, 'catalog.yaml');
  writeFileSync(file, generated.text);
  const yamlBytes = Buffer.byteLength(generated.text);
  const saved = process.env.UPLIFT_CACHE_DIR;
  try {
    process.env.UPLIFT_CACHE_DIR = 'off';
    const cold: number[] = [];
    let checked: Awaited<ReturnType<typeof loadCatalogCached>>['catalog'] | undefined;
    for (let i = 0; i < o.coldRuns; i++) {
      const t = performance.now();
      checked = (await loadCatalogCached(file)).catalog;
      cold.push(performance.now() - t);
    }

    process.env.UPLIFT_CACHE_DIR = join(work, 'cache');
    const first = await loadCatalogCached(file);
    if (first.cache !== 'miss') throw new Error(`a fresh cache gave ${first.cache}, not miss`);
    const cached: number[] = [];
    let restored = first.catalog;
    for (let i = 0; i < o.cachedRuns; i++) {
      const t = performance.now();
      const r = await loadCatalogCached(file);
      cached.push(performance.now() - t);
      if (r.cache !== 'hit') throw new Error(`cached load ${i + 1} was a ${r.cache}, not a hit`);
      restored = r.catalog;
    }

    const plans: number[] = [];
    for (const s of scenarios) {
      if (checked && planOnce(restored, s).hash !== planOnce(checked, s).hash)
        throw new Error(`the cached catalog plans ${s.from} → ${s.to} differently`);
    }
    for (let round = 0; round < o.planRounds; round++) {
      for (const s of scenarios) {
        const t = performance.now();
        planOnce(restored, s);
        plans.push(performance.now() - t);
      }
    }

    const coldMedian = median(cold);
    return {
      releases: generated.releases,
      edges: generated.edges,
      yamlBytes,
      cold: {
        runs: cold.length,
        medianMs: round(coldMedian),
        minMs: round(Math.min(...cold)),
        mbPerSecond: round(yamlBytes / 1_000_000 / (coldMedian / 1000)),
      },
      cached: {
        runs: cached.length,
        medianMs: round(median(cached)),
        p95Ms: round(percentile(cached, 95)),
        minMs: round(Math.min(...cached)),
      },
      plan: {
        plans: plans.length,
        medianMs: round(median(plans)),
        p95Ms: round(percentile(plans, 95)),
      },
    };
  } finally {
    if (saved === undefined) delete process.env.UPLIFT_CACHE_DIR;
    else process.env.UPLIFT_CACHE_DIR = saved;
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatCatalogLoad(
  f: CatalogLoadFigures,
  goals: { coldMBps: number; cachedMs: number; planP95Ms: number },
): string {
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  return [
    `\nCatalog load — generated catalog: ${f.releases} releases, ${f.edges} edges, ${(f.yamlBytes / 1_000_000).toFixed(1)} MB YAML, from a file`,
    `  cold (full check, cache off)   median ${f.cold.medianMs} ms (min ${f.cold.minMs}) of ${f.cold.runs}, ${f.cold.mbPerSecond} MB/s  goal >= ${goals.coldMBps} MB/s: ${met(f.cold.mbPerSecond >= goals.coldMBps)}`,
    `  cached (entry for these bytes) median ${f.cached.medianMs} ms, p95 ${f.cached.p95Ms} ms (min ${f.cached.minMs}) of ${f.cached.runs}  goal < ${goals.cachedMs} ms: ${met(f.cached.medianMs < goals.cachedMs)}`,
    `  plans on the cached catalog    median ${f.plan.medianMs} ms, p95 ${f.plan.p95Ms} ms of ${f.plan.plans}  goal p95 < ${goals.planP95Ms} ms: ${met(f.plan.p95Ms < goals.planP95Ms)}`,
  ].join('\n');
}
