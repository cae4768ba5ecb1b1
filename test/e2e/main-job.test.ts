import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/plan/index.ts';
import { runCliProcess } from '../util/run-cli.ts';

/**
 * The main job behind `npm start`: bring up the sample installation, detect its facts, plan the
 * upgrade to the newest version and write the Markdown report; `uplift facts` shows the same facts.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-main-job-'));
const install = join(dir, 'install');

afterAll(() => {
  runCliProcess(['sample', '--dir', dir, '--stop']);
});

describe('the main job on the sample installation', () => {
  it('plans the running sample from its detected facts and writes the report', () => {
    const sample = runCliProcess(['sample', '--dir', dir, '--json']);
    expect(sample.code, sample.stderr).toBe(0);

    const plan = runCliProcess([
      'plan',
      '--install',
      install,
      '--to',
      'latest',
      '--json',
      '--report',
      join(dir, 'plan.md'),
    ]);
    const facts = runCliProcess(['facts', '--install', install, '--json']);

    expect(plan.code, plan.stderr).toBe(0);
    expect(facts.code, facts.stderr).toBe(0);
    const p = JSON.parse(plan.stdout);
    const f = JSON.parse(facts.stdout);
    expect(p.profile).toBe('skiff');
    expect(p.from).toBe(readFileSync(join(install, 'version'), 'utf8').trim());
    expect(p.to).toBe('5.5 GA');
    expect(p.facts.digest).toBe(contentHash({ ...f, version: p.from }));
    expect(p.customizedFiles.changed).toEqual(
      expect.arrayContaining(['conf/start-script.conf', 'conf/security.properties']),
    );
    expect(f.services.some((s: { running: boolean }) => s.running)).toBe(true);
    expect(existsSync(join(dir, 'plan.md'))).toBe(true);
    expect(readFileSync(join(dir, 'plan.md'), 'utf8')).toContain('conf/start-script.conf');
  });

  it('reuses the installation when run again', () => {
    const again = runCliProcess(['sample', '--dir', dir, '--json']);

    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).status).toBe('reused');
  });
});
