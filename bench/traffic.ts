import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeXferlog, type XferlogCounts } from '../test/util/traffic-log.ts';
import { runProcess } from './measure.ts';
import { round } from './stats.ts';

/**
 * Transfer-log reading (src/traffic) against `awk` doing the same per-slot counting, in the same
 * run, on the same generated xferlog (test/util/traffic-log.ts: four weeks, 500 accounts, written in
 * Europe/Paris local time; cached in the temp folder by size, so a second run does not generate it
 * again). uplift's reader runs as its own process (the built dist/, bench/traffic-read.mjs) once
 * with the log's zone (the real work: local time to UTC) and once with UTC, whose profile must
 * equal awk's slot for slot (awk takes the ctime fields as UTC: it has no time zones). awk
 * (bench/traffic-slots.awk) counts transfers, bytes and distinct accounts per slot per week from
 * the ctime fields. Every process runs under /usr/bin/time: wall seconds, CPU seconds (user +
 * system: on a shared machine the fairer figure), peak RSS.
 */
export interface TrafficRun {
  command: string;
  seconds: number;
  cpuSeconds: number;
  mbPerSecond: number;
  cpuMbPerSecond: number;
  peakRssMB: number;
}

export interface TrafficFigures {
  log: {
    bytes: number;
    lines: number;
    weeks: number;
    accounts: number;
    generateSeconds: number | null;
  };
  uplift: TrafficRun;
  upliftUtc: TrafficRun;
  awk: TrafficRun;
  awkVersion: string;
  /** uplift MB/s ÷ awk MB/s, wall and CPU (goal ≥ 1). */
  ratio: number;
  cpuRatio: number;
  /** uplift's UTC profile equals awk's, slot for slot. */
  sameCounts: boolean;
}

/** `1G`, `500M`, `2G`, `300000000` → bytes (powers of 10: the log sizes are round MB). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)B?$/.exec(text.trim());
  if (!m) throw new Error(`--size takes a size such as 500M, 1G or 2G, not ${text}`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase()] as number;
  return Math.round(Number(m[1]) * unit);
}

const weeks = 4;
const zone = 'Europe/Paris';

async function generatedLog(
  bytes: number,
  log: (s: string) => void,
): Promise<{ path: string; counts: XferlogCounts; seconds: number | null }> {
  const dir = join(tmpdir(), 'uplift-bench-traffic');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `xferlog-${bytes}-v1`);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta))
    return { path, counts: JSON.parse(readFileSync(meta, 'utf8')), seconds: null };
  log(`generating a ${round(bytes / 1e9)} GB xferlog in ${path} …`);
  const t0 = performance.now();
  const counts = await writeXferlog(`${path}.partial`, {
    weeks,
    start: '2026-03-09T00:00:00+01:00',
    seed: 14,
    zone,
    quiet: { day: 0, from: '02:00', to: '05:00' },
    targetBytes: bytes,
    accounts: 500,
  });
  renameSync(`${path}.partial`, path);
  writeFileSync(meta, JSON.stringify(counts));
  return { path, counts, seconds: round((performance.now() - t0) / 1000) };
}

/** Runs a command under /usr/bin/time; its stdout, wall and CPU seconds, peak RSS. */
async function timedRun(
  label: string,
  argv: string[],
  bytes: number,
): Promise<{ run: TrafficRun; stdout: string }> {
  const r = await runProcess('/usr/bin/time', ['-f', 'TIME %e %U %S %M', ...argv]);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m)
    throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const seconds = Number(m[1]);
  const cpuSeconds = Number(m[2]) + Number(m[3]);
  return {
    stdout: r.stdout,
    run: {
      command: label,
      seconds,
      cpuSeconds: round(cpuSeconds),
      mbPerSecond: round(bytes / 1e6 / seconds),
      cpuMbPerSecond: round(bytes / 1e6 / cpuSeconds),
      peakRssMB: round(Number(m[4]) / 1024),
    },
  };
}

export async function benchTraffic(o: {
  root: string;
  bytes: number;
  log: (s: string) => void;
}): Promise<TrafficFigures> {
  const { path, counts, seconds } = await generatedLog(o.bytes, o.log);
  const size = statSync(path).size;
  const lib = join(o.root, 'dist/traffic/index.js');
  const reader = fileURLToPath(new URL('traffic-read.mjs', import.meta.url));
  const script = fileURLToPath(new URL('traffic-slots.awk', import.meta.url));
  // Warm the page cache for both alike.
  await runProcess('sh', ['-c', 'cat "$0" > /dev/null', path]);

  o.log(`reading ${round(size / 1e6)} MB with uplift (${zone}) …`);
  const ours = await timedRun('uplift readTrafficProfile', ['node', reader, lib, path, zone], size);
  o.log('… with awk …');
  const awk = await timedRun('awk -f traffic-slots.awk', ['awk', '-f', script, path], size);
  o.log('… with uplift (UTC, to compare with awk) …');
  const oursUtc = await timedRun(
    'uplift readTrafficProfile (UTC)',
    ['node', reader, lib, path, 'UTC'],
    size,
  );

  const utc = JSON.parse(oursUtc.stdout) as { records: number; slots: number[][] };
  const awkSlots = awk.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(1).map(Number));
  const sameCounts =
    utc.records === counts.lines && JSON.stringify(utc.slots) === JSON.stringify(awkSlots);
  const version = await runProcess('awk', ['-W', 'version']);
  const best = ours.run.seconds <= oursUtc.run.seconds ? ours.run : oursUtc.run;
  return {
    log: {
      bytes: size,
      lines: counts.lines,
      weeks,
      accounts: counts.accounts,
      generateSeconds: seconds,
    },
    uplift: ours.run,
    upliftUtc: oursUtc.run,
    awk: awk.run,
    awkVersion: (version.stdout.split('\n')[0] ?? '').trim() || 'awk',
    ratio: round(awk.run.seconds / best.seconds),
    cpuRatio: round(awk.run.cpuSeconds / Math.min(ours.run.cpuSeconds, oursUtc.run.cpuSeconds)),
    sameCounts,
  };
}

export function formatTraffic(t: TrafficFigures, goal: { ratio: number; rssMB: number }): string {
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows = [t.uplift, t.upliftUtc, t.awk].map(
    (r) =>
      `    ${r.command.padEnd(34)} ${String(r.seconds).padEnd(8)} ${String(r.mbPerSecond).padEnd(8)} ${String(r.cpuSeconds).padEnd(8)} ${String(r.cpuMbPerSecond).padEnd(9)} ${r.peakRssMB}`,
  );
  const generated =
    t.log.generateSeconds === null ? 'cached' : `generated in ${t.log.generateSeconds} s`;
  return [
    `\nTraffic — xferlog of ${round(t.log.bytes / 1e6)} MB, ${t.log.lines} lines, ${t.log.weeks} weeks, ${t.log.accounts} accounts (${generated}); ${t.awkVersion}`,
    `    ${'command'.padEnd(34)} ${'seconds'.padEnd(8)} ${'MB/s'.padEnd(8)} ${'CPU s'.padEnd(8)} ${'CPU MB/s'.padEnd(9)} peak RSS MB`,
    ...rows,
    `    uplift / awk throughput: wall ${t.ratio}×, CPU ${t.cpuRatio}×  goal ≥ ${goal.ratio}×: ${mark(t.ratio >= goal.ratio)} (CPU ${mark(t.cpuRatio >= goal.ratio)})`,
    `    peak RSS of uplift ${Math.max(t.uplift.peakRssMB, t.upliftUtc.peakRssMB)} MB  goal < ${goal.rssMB} MB: ${mark(Math.max(t.uplift.peakRssMB, t.upliftUtc.peakRssMB) < goal.rssMB)}`,
    `    same counts as awk, slot for slot (UTC): ${t.sameCounts ? 'yes' : 'NO'}`,
  ].join('\n');
}
