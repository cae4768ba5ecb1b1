import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, percentile, round } from './stats.ts';

export const cliPath = 'dist/cli/main.js';
export const planArgs = [
  'plan',
  '--profile',
  'skiff',
  '--facts',
  'profiles/skiff/sample-facts.yaml',
  '--to',
  'latest',
  '--format',
  'json',
];

/** Exit codes of a completed plan: 0, or 3 when the verdict is blocked (src/errors/exit-codes.ts). */
const completed = new Set([0, 3]);

export interface CommandFigures {
  command: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
}

export interface ProcessFigures {
  warmups: number;
  bare: CommandFigures;
  plan: CommandFigures & { exitCode: number; verdict: string | null };
  /** Median plan process over median bare `node -e 0`. */
  ratio: number;
  hyperfine: { bareMeanMs: number; planMeanMs: number; ratio: number } | null;
}

function runOnce(
  root: string,
  args: string[],
  check: boolean,
): { ms: number; status: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  const status = r.status ?? -1;
  if (check && !completed.has(status)) {
    throw new Error(
      `node ${args.join(' ')} exited ${r.status ?? r.signal} (expected 0 or 3)\n${r.stderr}`,
    );
  }
  return { ms, status, stdout: r.stdout };
}

function figures(command: string, times: number[]): CommandFigures {
  return {
    command,
    runs: times.length,
    medianMs: round(median(times)),
    p95Ms: round(percentile(times, 95)),
    minMs: round(Math.min(...times)),
  };
}

/** Reads the verdict from the JSON the plan printed; fails when it is not JSON, since then no plan was made. */
function verdictOf(stdout: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new Error(
      `uplift plan --format json printed something that is not JSON:\n${stdout.slice(0, 500)}`,
    );
  }
  const record = data as { verdict?: unknown; plan?: { verdict?: unknown } };
  const verdict = record.verdict ?? record.plan?.verdict;
  return typeof verdict === 'string' ? verdict : null;
}

/** Alternates the two commands so that drift on the machine hits both alike. */
export function benchProcessStart(root: string, runs: number, warmups: number): ProcessFigures {
  if (!existsSync(join(root, cliPath)))
    throw new Error(`${cliPath} does not exist; run npm run build first`);
  const bareArgs = ['-e', '0'];
  const planCommand = [cliPath, ...planArgs];
  let last = { ms: 0, status: 0, stdout: '' };
  for (let i = 0; i < warmups; i++) {
    runOnce(root, bareArgs, true);
    last = runOnce(root, planCommand, true);
  }
  const bare: number[] = [];
  const plan: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(runOnce(root, bareArgs, true).ms);
    last = runOnce(root, planCommand, true);
    plan.push(last.ms);
  }
  const bareFigures = figures('node -e 0', bare);
  const planFigures = figures(`node ${planCommand.join(' ')}`, plan);
  return {
    warmups,
    bare: bareFigures,
    plan: { ...planFigures, exitCode: last.status, verdict: verdictOf(last.stdout) },
    ratio: round(planFigures.medianMs / bareFigures.medianMs),
    hyperfine: runHyperfine(root, runs, warmups, planCommand),
  };
}

/** The same comparison through hyperfine when it is installed; null otherwise. */
function runHyperfine(
  root: string,
  runs: number,
  warmups: number,
  planCommand: string[],
): ProcessFigures['hyperfine'] {
  if (spawnSync('hyperfine', ['--version']).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bench-'));
  try {
    const out = join(dir, 'hyperfine.json');
    const node = JSON.stringify(process.execPath);
    // -i: exit 3 (blocked verdict) is a completed run; the spawnSync loop above already checked exit codes.
    const r = spawnSync(
      'hyperfine',
      [
        '-N',
        '-i',
        '--style',
        'none',
        '--warmup',
        String(warmups),
        '--runs',
        String(runs),
        '--export-json',
        out,
        `${node} -e 0`,
        `${node} ${planCommand.join(' ')}`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`hyperfine failed:\n${r.stderr}`);
    const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: { mean: number }[] })
      .results;
    const bareMeanMs = round((results[0]?.mean ?? Number.NaN) * 1000);
    const planMeanMs = round((results[1]?.mean ?? Number.NaN) * 1000);
    return { bareMeanMs, planMeanMs, ratio: round(planMeanMs / bareMeanMs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
