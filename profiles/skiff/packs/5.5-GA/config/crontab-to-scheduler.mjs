#!/usr/bin/env node
// skiff 5.5 GA config migration: the skiff jobs of conf/crontab become jobs of conf/scheduler.yaml.
// Usage: node crontab-to-scheduler.mjs OLD_INSTALL NEW_INSTALL
//   reads OLD_INSTALL/conf/crontab (the installation as it was), writes NEW_INSTALL/conf/scheduler.yaml
//   (temp file + rename). Lines it cannot carry over are kept as comments and reported on stderr.
// Needs only Node: it runs before the new version starts, with no packages of its own.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  process.stderr.write('usage: crontab-to-scheduler.mjs OLD_INSTALL NEW_INSTALL\n');
  process.exit(2);
}

let text = '';
try {
  text = readFileSync(join(from, 'conf/crontab'), 'utf8');
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}

const types = { 'skiff-purge': 'purge', 'skiff-archive': 'archive' };
const jobs = [];
const skipped = [];
text.split(/\r?\n/).forEach((raw, i) => {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return;
  const fields = line.split(/\s+/);
  const n = fields[0].startsWith('@') ? 1 : 5;
  const schedule = fields.slice(0, n).join(' ');
  const [command = '', ...args] = fields.slice(n);
  const type = types[basename(command)];
  const at = args.findIndex((a) => a === '--days' || a.startsWith('--days='));
  const daysText = at < 0 ? args[0] : args[at].includes('=') ? args[at].split('=')[1] : args[at + 1];
  const days = Number(daysText);
  if (!type || fields.length < n + 1 || !Number.isInteger(days) || days < 0) {
    skipped.push({ line: i + 1, text: raw });
    return;
  }
  jobs.push({ name: `${type}-crontab-line-${i + 1}`, type, schedule, days });
});

const out = [
  "# Jobs of skiff's scheduler (conf/crontab is no longer read).",
  '# Carried over from conf/crontab by the 5.5 GA upgrade (crontab-to-scheduler).',
];
for (const s of skipped) out.push(`# not carried over (conf/crontab line ${s.line}): ${s.text}`);
if (jobs.length === 0) out.push('jobs: []');
else {
  out.push('jobs:');
  for (const j of jobs)
    out.push(
      `  - name: ${j.name}`,
      `    type: ${j.type}`,
      `    schedule: ${JSON.stringify(j.schedule)}`,
      `    days: ${j.days}`,
    );
}
const target = join(to, 'conf/scheduler.yaml');
const tmp = `${target}.tmp-${process.pid}`;
writeFileSync(tmp, `${out.join('\n')}\n`);
renameSync(tmp, target);
for (const s of skipped)
  process.stderr.write(`conf/crontab line ${s.line} is not a skiff job; kept as a comment\n`);
process.stdout.write(`${jobs.length} job(s) carried over, ${skipped.length} line(s) kept as comments\n`);
