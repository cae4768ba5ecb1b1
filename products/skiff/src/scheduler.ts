import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { type CronSchedule, matchesCron, parseCron } from './cron.ts';
import { listFiles } from './file-store.ts';
import type { ReleaseFeatures } from './release.ts';
import { dataFolders } from './settings.ts';
import { takeTransfersBefore } from './tracking.ts';

export type JobType = 'purge' | 'archive';

/**
 * A scheduled job. `purge` deletes uploads older than `days`; `archive` moves file-tracking rows
 * older than `days` into a file under var/db/hist/.
 */
export interface Job {
  name: string;
  type: JobType;
  schedule: string;
  days: number;
  cron: CronSchedule;
}

export interface LoadedJobs {
  source: 'conf/crontab' | 'conf/scheduler.yaml';
  jobs: Job[];
  /** Lines or entries that were skipped, each naming the file and line or entry. */
  warnings: string[];
}

const commands: Record<string, JobType> = { 'skiff-purge': 'purge', 'skiff-archive': 'archive' };

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** crontab(5) lines whose command is skiff-purge or skiff-archive, with `--days N`. */
export function parseCrontab(text: string): Omit<LoadedJobs, 'source'> {
  const jobs: Job[] = [];
  const warnings: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `conf/crontab:${i + 1}`;
    const fields = line.split(/\s+/);
    const cronFields = fields[0]?.startsWith('@') ? 1 : 5;
    const schedule = fields.slice(0, cronFields).join(' ');
    const [command = '', ...args] = fields.slice(cronFields);
    const type = commands[basename(command)];
    if (!type) {
      warnings.push(`${where}: "${command}" is not a skiff job (skiff-purge, skiff-archive)`);
      return;
    }
    const daysAt = args.findIndex((a) => a === '--days' || a.startsWith('--days='));
    const daysText = args[daysAt]?.includes('=') ? args[daysAt]?.split('=')[1] : args[daysAt + 1];
    const days = Number(daysAt < 0 ? args[0] : daysText);
    try {
      if (!Number.isInteger(days) || days < 0) throw new Error('needs --days N');
      jobs.push({ name: `crontab-line-${i + 1}`, type, schedule, days, cron: parseCron(schedule) });
    } catch (err) {
      warnings.push(`${where}: ${(err as Error).message}`);
    }
  });
  return { jobs, warnings };
}

/** The `jobs` list of conf/scheduler.yaml: `{ name, type, schedule, days }` each. */
export function parseSchedulerConfig(config: unknown): Omit<LoadedJobs, 'source'> {
  const jobs: Job[] = [];
  const warnings: string[] = [];
  const list = (config as { jobs?: unknown } | null)?.jobs ?? [];
  if (!Array.isArray(list)) return { jobs, warnings: ['conf/scheduler.yaml: jobs must be a list'] };
  list.forEach((entry: Record<string, unknown>, i) => {
    const where = `conf/scheduler.yaml: jobs[${i}]`;
    const { name, type, schedule, days } = entry ?? {};
    try {
      if (typeof name !== 'string' || name === '') throw new Error('name must be a string');
      if (type !== 'purge' && type !== 'archive') throw new Error('type must be purge or archive');
      if (typeof schedule !== 'string') throw new Error('schedule must be a cron expression');
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 0) {
        throw new Error('days must be a whole number');
      }
      jobs.push({ name, type, schedule, days, cron: parseCron(schedule) });
    } catch (err) {
      warnings.push(`${where}: ${(err as Error).message}`);
    }
  });
  return { jobs, warnings };
}

/**
 * The jobs this version runs: from conf/crontab before 5.5 GA, from conf/scheduler.yaml from
 * 5.5 GA on, when conf/crontab is no longer read even if it is still there.
 */
export function loadJobs(
  home: string,
  features: Pick<ReleaseFeatures, 'jobsFrom'>,
  parseYaml: (text: string) => unknown,
): LoadedJobs {
  if (features.jobsFrom === 'crontab') {
    const text = readOptional(join(home, 'conf/crontab')) ?? '';
    return { source: 'conf/crontab', ...parseCrontab(text) };
  }
  const text = readOptional(join(home, 'conf/scheduler.yaml')) ?? '';
  try {
    return { source: 'conf/scheduler.yaml', ...parseSchedulerConfig(parseYaml(text)) };
  } catch (err) {
    return {
      source: 'conf/scheduler.yaml',
      jobs: [],
      warnings: [`conf/scheduler.yaml: ${(err as Error).message}`],
    };
  }
}

export function dueJobs(jobs: readonly Job[], at: Date): Job[] {
  return jobs.filter((j) => matchesCron(j.cron, at));
}

export interface JobContext {
  home: string;
  db: Database;
  features: ReleaseFeatures;
}

export interface JobResult {
  job: string;
  type: JobType;
  /** Files deleted (purge) or tracking rows archived (archive). */
  count: number;
  file?: string;
}

const dayMs = 86_400_000;

export function runJob(job: Job, ctx: JobContext, now: Date): JobResult {
  const cutoff = now.getTime() - job.days * dayMs;
  if (job.type === 'purge') {
    const { dataDir } = dataFolders(ctx.home);
    let count = 0;
    for (const f of listFiles(dataDir)) {
      if (f.path.startsWith('/.partial/')) continue;
      const file = join(dataDir, f.path);
      try {
        // Completion time, i.e. the last write (SKF-299).
        if (statSync(file).mtimeMs < cutoff) {
          unlinkSync(file);
          count++;
        }
      } catch (err) {
        // A shared data.dir: the other server's purge took it first.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return { job: job.name, type: job.type, count };
  }
  const rows = takeTransfersBefore(ctx.db, ctx.features.trackingTable, cutoff);
  if (rows.length === 0) return { job: job.name, type: job.type, count: 0 };
  const hist = join(ctx.home, 'var/db/hist');
  mkdirSync(hist, { recursive: true });
  const file = join(
    hist,
    `${ctx.features.trackingTable}-${now.toISOString().replace(/[:.]/g, '-')}.jsonl`,
  );
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return { job: job.name, type: job.type, count: rows.length, file };
}

export interface Scheduler {
  stop(): void;
}

/**
 * Runs due jobs at the start of every minute. It reads the jobs again each minute, so edits take
 * effect without a restart, and runs a job at most once per minute (SKF-536).
 */
export function startScheduler(
  ctx: JobContext,
  parseYaml: (text: string) => unknown,
  log: (line: string) => void,
): Scheduler {
  let timer: NodeJS.Timeout | undefined;
  let lastMinute = -1;
  const tick = () => {
    const now = new Date();
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute !== lastMinute) {
      lastMinute = minute;
      const { jobs, warnings, source } = loadJobs(ctx.home, ctx.features, parseYaml);
      for (const w of warnings) log(`scheduler: skipped ${w}`);
      for (const job of dueJobs(jobs, now)) {
        try {
          const r = runJob(job, ctx, now);
          log(`scheduler: ${source} ${job.name} (${job.type}, ${job.days} days): ${r.count} done`);
        } catch (err) {
          log(`scheduler: ${source} ${job.name} failed: ${(err as Error).message}`);
        }
      }
    }
    timer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50);
  };
  timer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50);
  return { stop: () => clearTimeout(timer) };
}
