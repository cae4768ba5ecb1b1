import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, round } from './stats.ts';

/**
 * The two builds of the CLI a start can come from: tsc's module tree, and esbuild's bundle behind
 * its launcher (which answers a bare `--version` itself and runs the rest through a code cache).
 */
export const entries = { tsc: 'dist/cli/main.js', bundle: 'dist/bundle/uplift.cjs' } as const;
type Entry = keyof typeof entries;

/** The commands timed: the smallest start, and a plan on the sample facts (no installation). */
export const startCommands = {
  version: ['--version'],
  plan: ['plan', '--profile', 'skiff', '--facts', 'profiles/skiff/sample-facts.yaml'],
} as const;
type Command = keyof typeof startCommands;

export interface StartFigures {
  medianMs: number;
  /** Median over the median of `node -e 0`. */
  ratio: number;
  /** Median minus the median of `node -e 0`: the time that is uplift's own. */
  ownMs: number;
}

export interface ColdStartFigures {
  runs: number;
  warmups: number;
  bareMs: number;
  figures: Record<Command, Record<Entry, StartFigures>>;
  /** The bundle's own time over the tsc build's, per command: below 0.5 is "under half". */
  ownRatio: Record<Command, number>;
}

/** Exit codes of a completed plan: 0, or 3 when the verdict is blocked (src/errors/exit-codes.ts). */
const completed = new Set([0, 3]);

function timeOnce(root: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (!completed.has(r.status ?? -1))
    throw new Error(`node ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stderr}`);
  return ms;
}

/**
 * A new process for each run, every command in turn in each round so that drift on the machine
 * hits all alike; the medians of `runs` rounds after `warmups` rounds (the file cache and the
 * profile cache warm, as on a machine that has run uplift before).
 */
export function benchColdStart(root: string, runs: number, warmups: number): ColdStartFigures {
  for (const path of Object.values(entries))
    if (!existsSync(join(root, path))) throw new Error(`${path} is missing; run npm run build`);
  const cases: { key: string; args: readonly string[] }[] = [{ key: 'bare', args: ['-e', '0'] }];
  for (const [command, args] of Object.entries(startCommands))
    for (const [entry, path] of Object.entries(entries))
      cases.push({ key: `${command}.${entry}`, args: [path, ...args] });
  const times = new Map(cases.map((c) => [c.key, [] as number[]]));
  for (let round = 0; round < warmups + runs; round++)
    for (const c of cases) {
      const ms = timeOnce(root, c.args);
      if (round >= warmups) times.get(c.key)?.push(ms);
    }
  const bareMs = median(times.get('bare') ?? []);
  const one = (command: Command, entry: Entry): StartFigures => {
    const ms = median(times.get(`${command}.${entry}`) ?? []);
    return { medianMs: round(ms), ratio: round(ms / bareMs), ownMs: round(ms - bareMs) };
  };
  const figures = {
    version: { tsc: one('version', 'tsc'), bundle: one('version', 'bundle') },
    plan: { tsc: one('plan', 'tsc'), bundle: one('plan', 'bundle') },
  };
  const own = (c: Command) => round(figures[c].bundle.ownMs / figures[c].tsc.ownMs);
  return {
    runs,
    warmups,
    bareMs: round(bareMs),
    figures,
    ownRatio: { version: own('version'), plan: own('plan') },
  };
}

export function formatColdStart(f: ColdStartFigures, goal: number): string {
  const lines = [
    `\nCold start — a new process per run, median of ${f.runs} after ${f.warmups} warm-ups; node -e 0: ${f.bareMs} ms`,
    '  command     build   median ms  × node -e 0  own ms',
  ];
  for (const command of Object.keys(startCommands) as Command[]) {
    for (const entry of Object.keys(entries) as Entry[]) {
      const s = f.figures[command][entry];
      lines.push(
        `  ${command.padEnd(10)}  ${entry.padEnd(6)}  ${String(s.medianMs).padStart(9)}  ${String(s.ratio).padStart(11)}  ${String(s.ownMs).padStart(6)}`,
      );
    }
    const met = f.ownRatio[command] < goal ? 'met' : 'MISSED';
    lines.push(
      `  ${command}: the bundle's own time is ${f.ownRatio[command]}× the tsc build's  goal < ${goal}×: ${met}`,
    );
  }
  return lines.join('\n');
}
