import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dueJobs, loadJobs, parseCrontab, parseSchedulerConfig, runJob } from './scheduler.ts';
import { insertTransfer, listTransfers, prepareDatabase } from './tracking.ts';
import { featuresFor } from './versions.ts';

const home = mkdtempSync(join(tmpdir(), 'skiff-scheduler-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

mkdirSync(join(home, 'conf'));
writeFileSync(
  join(home, 'conf/crontab'),
  `# customer jobs
15 2 * * * /opt/skiff/bin/skiff-purge --days 30
30 3 * * 0 /opt/skiff/bin/skiff-archive --days=90
0 4 * * * /usr/bin/logrotate /etc/logrotate.conf
`,
);
writeFileSync(
  join(home, 'conf/scheduler.yaml'),
  `jobs:
  - { name: hourly-purge, type: purge, schedule: "0 * * * *", days: 7 }
`,
);

describe('job selection', () => {
  it('reads skiff jobs from crontab lines and skips other commands with a warning', () => {
    const { jobs, warnings } = parseCrontab(readFileSync(join(home, 'conf/crontab'), 'utf8'));

    expect(jobs.map((j) => [j.name, j.type, j.schedule, j.days])).toEqual([
      ['crontab-line-2', 'purge', '15 2 * * *', 30],
      ['crontab-line-3', 'archive', '30 3 * * 0', 90],
    ]);
    expect(warnings).toEqual([expect.stringMatching(/^conf\/crontab:4: "\/usr\/bin\/logrotate"/)]);
  });

  it('runs conf/crontab before 5.5 GA, even when conf/scheduler.yaml exists', () => {
    const loaded = loadJobs(home, featuresFor('5.4 Patch 2'), parse);

    expect(loaded.source).toBe('conf/crontab');
    expect(loaded.jobs.map((j) => j.type)).toEqual(['purge', 'archive']);
  });

  it('ignores conf/crontab from 5.5 GA and runs conf/scheduler.yaml', () => {
    const loaded = loadJobs(home, featuresFor('5.5 GA'), parse);

    expect(loaded.source).toBe('conf/scheduler.yaml');
    expect(loaded.jobs.map((j) => j.name)).toEqual(['hourly-purge']);
  });

  it('picks the jobs due in a given minute', () => {
    const crontab = loadJobs(home, featuresFor('5.4 Patch 2'), parse).jobs;
    const yaml = loadJobs(home, featuresFor('5.5 GA'), parse).jobs;
    const sunday0330 = new Date(2024, 2, 10, 3, 30);
    const monday0215 = new Date(2024, 2, 11, 2, 15);
    const monday0200 = new Date(2024, 2, 11, 2, 0);

    expect(dueJobs(crontab, sunday0330).map((j) => j.type)).toEqual(['archive']);
    expect(dueJobs(crontab, monday0215).map((j) => j.type)).toEqual(['purge']);
    expect(dueJobs(yaml, monday0215)).toEqual([]);
    expect(dueJobs(yaml, monday0200).map((j) => j.name)).toEqual(['hourly-purge']);
  });

  it('reports bad scheduler.yaml entries by index', () => {
    const { jobs, warnings } = parseSchedulerConfig({
      jobs: [
        { name: 'x', type: 'compress', schedule: '* * * * *', days: 1 },
        { name: 'y', type: 'purge', schedule: '61 * * * *', days: 1 },
      ],
    });

    expect(jobs).toEqual([]);
    expect(warnings).toEqual([
      'conf/scheduler.yaml: jobs[0]: type must be purge or archive',
      expect.stringMatching(/^conf\/scheduler.yaml: jobs\[1\]: "61" is outside 0-59/),
    ]);
  });
});

describe('jobs', () => {
  const now = new Date(2024, 2, 11, 2, 15);
  const day = 86_400_000;

  it('purge deletes uploads older than its days', () => {
    const data = join(home, 'data/alice/in');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'old.csv'), 'old');
    writeFileSync(join(data, 'new.csv'), 'new');
    const old = new Date(now.getTime() - 31 * day);
    utimesSync(join(data, 'old.csv'), old, old);
    const features = featuresFor('5.3.0 Patch 1');
    const db = new Database(':memory:');
    const [purge] = parseCrontab('15 2 * * * skiff-purge --days 30').jobs;

    const r = runJob(purge as NonNullable<typeof purge>, { home, db, features }, now);

    expect(r.count).toBe(1);
    expect(existsSync(join(data, 'old.csv'))).toBe(false);
    expect(existsSync(join(data, 'new.csv'))).toBe(true);
  });

  it.each(['5.3.0 Patch 1', '5.5 GA'])(
    'archive moves old tracking rows of %s into var/db/hist',
    (version) => {
      const features = featuresFor(version);
      const db = new Database(':memory:');
      prepareDatabase(db, features);
      const row = {
        account: 'alice',
        path: '/a',
        bytes: 1,
        sha256: 'ab',
        direction: 'in',
        status: 'completed',
      } as const;
      insertTransfer(db, features.trackingTable, {
        ...row,
        start: now.getTime() - 100 * day,
        end: now.getTime() - 100 * day + 5,
      });
      insertTransfer(db, features.trackingTable, {
        ...row,
        start: now.getTime() - day,
        end: now.getTime() - day + 5,
      });
      const [archive] = parseCrontab('30 3 * * 0 skiff-archive --days 90').jobs;

      const r = runJob(archive as NonNullable<typeof archive>, { home, db, features }, now);

      expect(r.count).toBe(1);
      expect(listTransfers(db, features.trackingTable)).toHaveLength(1);
      const file = r.file as string;
      expect(readdirSync(join(home, 'var/db/hist'))).toContain(file.split('/').at(-1));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        account: 'alice',
        path: '/a',
        direction: 'in',
      });
    },
  );
});
