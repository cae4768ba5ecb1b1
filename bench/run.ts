/**
 * `npm run bench`: the planner on a large generated catalog, and one whole `uplift plan` process
 * against a bare `node -e 0`. Prints a table, then `BENCH_JSON {...}` with every figure, and writes
 * the same JSON to bench/results/latest.json. Fails when a plan finds no path or the CLI errors;
 * a missed goal is reported, not failed, so the figures are always printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchPlanner, type PlannerFigures } from './planner.ts';
import { benchProcessStart, type ProcessFigures } from './process-start.ts';

const goals = { planP95Ms: 50, processRatio: 3 } as const;

const root = fileURLToPath(new URL('..', import.meta.url));

function row(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((c, i) => String(c).padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
}

const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

function printPlanner(p: PlannerFigures): void {
  const c = p.catalog;
  console.log(
    `\nPlanner — generated catalog: ${c.releases} releases, ${c.edges} edges, ${(c.yamlBytes / 1_048_576).toFixed(1)} MB YAML`,
  );
  console.log(`  generate YAML            ${c.generateMs} ms`);
  console.log(`  parseCatalog (once)      ${c.parseMs} ms`);
  console.log(`  restoreCatalog (cached)  ${c.restoreMs} ms`);
  console.log(`  plans measured           ${p.plans} (after ${p.warmupPlans} warm-up plans)`);
  console.log(`  plans per second         ${p.plansPerSecond}`);
  console.log(
    `  one plan: median / p95   ${p.medianMs} / ${p.p95Ms} ms (max ${p.maxMs})  goal p95 < ${goals.planP95Ms} ms: ${mark(p.p95Ms < goals.planP95Ms)}`,
  );
  console.log(
    `  memory after planning    heapUsed ${p.memory.heapUsedMB} MB, rss ${p.memory.rssMB} MB\n`,
  );
  const widths = [8, 16, 5, 22, 11, 8];
  console.log(row(['from', 'to', 'hops', 'verdict', 'median ms', 'p95 ms'], widths));
  for (const s of p.scenarios) {
    const to = s.to === s.resolvedTo ? s.to : `${s.to} (${s.resolvedTo})`;
    console.log(row([s.from, to, s.hops, s.verdict, s.medianMs, s.p95Ms], widths));
  }
}

function printProcess(p: ProcessFigures): void {
  console.log(`\nProcess start — ${p.bare.runs} runs each after ${p.warmups} warm-ups`);
  const widths = [12, 10, 8, 8];
  console.log(row(['command', 'median ms', 'p95 ms', 'min ms'], widths));
  console.log(row(['node -e 0', p.bare.medianMs, p.bare.p95Ms, p.bare.minMs], widths));
  console.log(row(['uplift plan', p.plan.medianMs, p.plan.p95Ms, p.plan.minMs], widths));
  console.log(
    `  plan exit code ${p.plan.exitCode}, verdict ${p.plan.verdict ?? '(not found in the JSON)'}`,
  );
  console.log(
    `  ratio (median plan / median bare) ${p.ratio}×  goal < ${goals.processRatio}×: ${mark(p.ratio < goals.processRatio)}`,
  );
  if (p.hyperfine)
    console.log(
      `  hyperfine means: bare ${p.hyperfine.bareMeanMs} ms, plan ${p.hyperfine.planMeanMs} ms, ratio ${p.hyperfine.ratio}×`,
    );
  else console.log('  hyperfine: not installed, skipped');
}

const planner = await benchPlanner({ warmupRounds: 5, minRounds: 20, minSeconds: 3 });
printPlanner(planner);

let processStart: ProcessFigures | null = null;
let processError: string | null = null;
try {
  processStart = benchProcessStart(root, 15, 2);
  printProcess(processStart);
} catch (error) {
  processError = (error as Error).message;
  console.error(`\nProcess start FAILED: ${processError}`);
  process.exitCode = 1;
}

const result = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  goals,
  planner,
  processStart,
  processError,
  goalsMet: {
    planP95: planner.p95Ms < goals.planP95Ms,
    processRatio: processStart ? processStart.ratio < goals.processRatio : false,
  },
};
const json = JSON.stringify(result);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/latest.json', import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(`\nBENCH_JSON ${json}`);
