import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { defaultShape, generateCatalog } from './generate-catalog.ts';
import { planOnce, scenarios } from './planner.ts';
import { median, percentile, round } from './stats.ts';

// The tsc build, as planner.ts does: what ships, not sources through tsx.
const distCatalog = '../dist/catalog/index.js';
const { loadCatalogCached } = (await import(
  distCatalog
)) as typeof import('../src/catalog/index.ts');

/**
 * Wall time and CPU time of the same runs. The bench machine is shared: wall time there includes
 * waiting for a core, CPU time (process.cpuUsage: user + system, all threads, so GC helper threads
 * count) does not, and is the figure to compare between runs on a loaded machine.
 */
interface Timed {
  medianMs: number;
  p95Ms: number;
  minMs: number;
  cpuMedianMs: number;
  cpuP95Ms: number;
  /**
   * CPU time of the main thread alone, mean per run (Linux, /proc; null elsewhere): without the
   * GC's helper threads, which on an idle machine run beside it, so this is close to what the wall
   * time would be there.
   */
  mainThreadCpuMeanMs: number | null;
}

export interface CatalogLoadFigures {
  releases: number;
  edges: number;
  yamlBytes: number;
  /** Load average (1 min) when the section started: how busy the machine was. */
  loadAverage: number;
  /** A full check of the file (YAML, schema, cross-field rules), the cache off. */
  cold: Timed & {
    runs: number;
    mbPerSecond: number;
    cpuMbPerSecond: number;
    mainThreadMbPerSecond: number | null;
  };
  /** The same file again with a warm cache entry; every run must be a hit. */
  cached: Timed & { runs: number; entryBytes: number };
  /** The parts of a hit, CPU ms (medians): what the integrity checks and the decoding cost. */
  cachedParts: {
    sha256CatalogMs: number;
    sha256EntryMs: number;
    jsonParseEntryMs: number;
    /** The same parsed entry through v8.serialize/deserialize, for comparison. */
    v8DeserializeEntryMs: number;
  };
  /** Plans over the catalog the cache gave back, every bench scenario in each round. */
  plan: Timed & { plans: number };
}

export interface CatalogLoadOptions {
  coldRuns: number;
  cachedRuns: number;
  planRounds: number;
}

interface Sample {
  wall: number[];
  cpu: number[];
  /** Main-thread CPU ms over all runs, or null where /proc has no per-thread times. */
  mainThread: number | null;
}

const sample = (): Sample => ({ wall: [], cpu: [], mainThread: 0 });

function timed(s: Sample): Timed {
  return {
    medianMs: round(median(s.wall)),
    p95Ms: round(percentile(s.wall, 95)),
    minMs: round(Math.min(...s.wall)),
    cpuMedianMs: round(median(s.cpu)),
    cpuP95Ms: round(percentile(s.cpu, 95)),
    mainThreadCpuMeanMs: s.mainThread === null ? null : round(s.mainThread / s.wall.length),
  };
}

/** User + system time of the main thread in ms (clock ticks of 10 ms), or null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function measure<T>(s: Sample, work: () => T | Promise<T>): Promise<T> {
  const m = mainThreadCpuMs();
  const c = process.cpuUsage();
  const t = performance.now();
  const result = await work();
  s.wall.push(performance.now() - t);
  const used = process.cpuUsage(c);
  s.cpu.push((used.user + used.system) / 1000);
  const m2 = mainThreadCpuMs();
  s.mainThread = s.mainThread === null || m === null || m2 === null ? null : s.mainThread + m2 - m;
  return result;
}

/** Median CPU ms of `work` over `runs` runs. */
function cpuMedian(runs: number, work: () => unknown): number {
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    work();
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  return round(median(cpu));
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
  const loadAverage = round((await import('node:os')).loadavg()[0] ?? 0);
  try {
    process.env.UPLIFT_CACHE_DIR = 'off';
    // One load first, so that module loading (zod, both YAML readers) is not in the figures.
    let checked = (await loadCatalogCached(file)).catalog;
    const cold = sample();
    for (let i = 0; i < o.coldRuns; i++)
      checked = (await measure(cold, () => loadCatalogCached(file))).catalog;

    const cacheDir = join(work, 'cache');
    process.env.UPLIFT_CACHE_DIR = cacheDir;
    const first = await loadCatalogCached(file);
    if (first.cache !== 'miss') throw new Error(`a fresh cache gave ${first.cache}, not miss`);
    const cached = sample();
    let restored = first.catalog;
    for (let i = 0; i < o.cachedRuns; i++) {
      const r = await measure(cached, () => loadCatalogCached(file));
      if (r.cache !== 'hit') throw new Error(`cached load ${i + 1} was a ${r.cache}, not a hit`);
      restored = r.catalog;
    }

    const [entryName] = readdirSync(cacheDir).filter((n) => n.startsWith('catalog-'));
    if (entryName === undefined) throw new Error('no cache entry was written');
    const entry = readFileSync(join(cacheDir, entryName));
    const body = entry.subarray(entry.indexOf(0x0a) + 1);
    const catalogBytes = readFileSync(file);
    const parsedBody = JSON.parse(body.toString('utf8')) as unknown;
    const serialized = v8.serialize(parsedBody);
    const parts = {
      sha256CatalogMs: cpuMedian(9, () => createHash('sha256').update(catalogBytes).digest()),
      sha256EntryMs: cpuMedian(9, () => createHash('sha256').update(body).digest()),
      jsonParseEntryMs: cpuMedian(9, () => JSON.parse(body.toString('utf8'))),
      v8DeserializeEntryMs: cpuMedian(9, () => v8.deserialize(serialized)),
    };

    for (const s of scenarios) {
      if (planOnce(restored, s).hash !== planOnce(checked, s).hash)
        throw new Error(`the cached catalog plans ${s.from} → ${s.to} differently`);
    }
    const plans = sample();
    for (let round = 0; round < o.planRounds; round++) {
      for (const s of scenarios) await measure(plans, () => planOnce(restored, s));
    }

    const coldTimed = timed(cold);
    const mb = yamlBytes / 1_000_000;
    return {
      releases: generated.releases,
      edges: generated.edges,
      yamlBytes,
      loadAverage,
      cold: {
        runs: cold.wall.length,
        ...coldTimed,
        mbPerSecond: round(mb / (coldTimed.medianMs / 1000)),
        cpuMbPerSecond: round(mb / (coldTimed.cpuMedianMs / 1000)),
        mainThreadMbPerSecond:
          coldTimed.mainThreadCpuMeanMs === null
            ? null
            : round(mb / (coldTimed.mainThreadCpuMeanMs / 1000)),
      },
      cached: {
        runs: cached.wall.length,
        ...timed(cached),
        entryBytes: entry.length,
      },
      cachedParts: parts,
      plan: { plans: plans.wall.length, ...timed(plans) },
    };
  } finally {
    if (saved === undefined) delete process.env.UPLIFT_CACHE_DIR;
    else process.env.UPLIFT_CACHE_DIR = saved;
    rmSync(work, { recursive: true, force: true });
  }
}

/** The figures to show beside this run's: the last recorded run, else the issue's. */
export interface PreviousCatalogLoad {
  source: string;
  coldMBps?: number;
  coldCpuMBps?: number;
  cachedMs?: number;
  cachedCpuMs?: number;
  planP95Ms?: number;
}

/**
 * The previous figures from bench/results/latest.json (its catalog load section, or for the plan
 * p95 its planner section), else the issue's: a cold load of 9.2 s (about 0.6 MB/s), no cache.
 */
export function previousCatalogLoad(latest: URL): PreviousCatalogLoad {
  const issue: PreviousCatalogLoad = { source: 'issue 12 (9.2 s cold, no cache)', coldMBps: 0.6 };
  if (!existsSync(latest)) return issue;
  const r = JSON.parse(readFileSync(latest, 'utf8')) as {
    date?: string;
    catalogLoad?: Partial<CatalogLoadFigures> | null;
    planner?: { p95Ms?: number } | null;
  };
  const c = r.catalogLoad;
  if (!c?.cold) return { ...issue, planP95Ms: r.planner?.p95Ms };
  return {
    source: `bench/results/latest.json of ${r.date ?? 'an earlier run'}`,
    coldMBps: c.cold.mbPerSecond,
    coldCpuMBps: c.cold.cpuMbPerSecond,
    cachedMs: c.cached?.medianMs,
    cachedCpuMs: c.cached?.cpuMedianMs,
    planP95Ms: c.plan?.p95Ms,
  };
}

export function formatCatalogLoad(
  f: CatalogLoadFigures,
  goals: { coldMBps: number; cachedMs: number; planP95Ms: number },
  previous: PreviousCatalogLoad,
): string {
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const was = (v: number | undefined, unit: string) => (v === undefined ? 'none' : `${v} ${unit}`);
  const p = f.cachedParts;
  const mainThread = (t: Timed, extra = '') =>
    t.mainThreadCpuMeanMs === null ? '' : `; main thread mean ${t.mainThreadCpuMeanMs} ms${extra}`;
  return [
    `\nCatalog load — generated catalog: ${f.releases} releases, ${f.edges} edges, ${(f.yamlBytes / 1_000_000).toFixed(1)} MB YAML, from a file; load average ${f.loadAverage}`,
    '  wall time waits for a core on a busy machine; CPU time (all threads) does not; the main',
    "  thread's CPU time leaves out the GC's helper threads, which an idle machine runs beside it",
    `  cold (full check, cache off)   wall median ${f.cold.medianMs} ms (min ${f.cold.minMs}) of ${f.cold.runs}: ${f.cold.mbPerSecond} MB/s; CPU median ${f.cold.cpuMedianMs} ms: ${f.cold.cpuMbPerSecond} MB/s${mainThread(f.cold, `: ${f.cold.mainThreadMbPerSecond} MB/s`)}`,
    `    goal >= ${goals.coldMBps} MB/s: wall ${met(f.cold.mbPerSecond >= goals.coldMBps)}, CPU ${met(f.cold.cpuMbPerSecond >= goals.coldMBps)}${f.cold.mainThreadMbPerSecond === null ? '' : `, main thread ${met(f.cold.mainThreadMbPerSecond >= goals.coldMBps)}`}; before: ${was(previous.coldMBps, 'MB/s')}${previous.coldCpuMBps === undefined ? '' : ` (CPU ${previous.coldCpuMBps} MB/s)`}`,
    `  cached (entry for these bytes) wall median ${f.cached.medianMs} ms, p95 ${f.cached.p95Ms} (min ${f.cached.minMs}) of ${f.cached.runs}; CPU median ${f.cached.cpuMedianMs} ms, p95 ${f.cached.cpuP95Ms}${mainThread(f.cached)}`,
    `    goal < ${goals.cachedMs} ms: wall ${met(f.cached.medianMs < goals.cachedMs)}, CPU ${met(f.cached.cpuMedianMs < goals.cachedMs)}${f.cached.mainThreadCpuMeanMs === null ? '' : `, main thread ${met(f.cached.mainThreadCpuMeanMs < goals.cachedMs)}`}; before: ${was(previous.cachedMs, 'ms')}${previous.cachedCpuMs === undefined ? '' : ` (CPU ${previous.cachedCpuMs} ms)`}`,
    `    of which (CPU): sha256 of the catalog ${p.sha256CatalogMs} ms, sha256 of the ${(f.cached.entryBytes / 1_000_000).toFixed(1)} MB entry ${p.sha256EntryMs} ms, JSON.parse of it ${p.jsonParseEntryMs} ms (v8.deserialize of the same data ${p.v8DeserializeEntryMs} ms)`,
    `  plans on the cached catalog    wall median ${f.plan.medianMs} ms, p95 ${f.plan.p95Ms} ms of ${f.plan.plans}; CPU median ${f.plan.cpuMedianMs} ms, p95 ${f.plan.cpuP95Ms}`,
    `    goal p95 < ${goals.planP95Ms} ms: wall ${met(f.plan.p95Ms < goals.planP95Ms)}, CPU ${met(f.plan.cpuP95Ms < goals.planP95Ms)}; before: ${was(previous.planP95Ms, 'ms')}`,
    `  before = ${previous.source}`,
  ].join('\n');
}
