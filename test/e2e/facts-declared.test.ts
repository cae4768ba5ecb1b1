import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';

/**
 * Facts are checked against the facts the profile declares, by the real CLI: a typo in a value or
 * a key is exit 2 with a suggestion and the place to correct, not a plan made on wrong facts.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-facts-declared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('uplift plan checks facts against the profile', () => {
  it('--fact database.type=oracel exits 2 and says "did you mean oracle"', () => {
    const r = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--fact',
      'database.type=oracel',
    ]);

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(flat(r.stderr)).toContain('UPLIFT_FACTS_INVALID');
    expect(flat(r.stderr)).toContain('did you mean oracle?');
    expect(flat(r.stderr)).toContain('Nothing was changed.');
  });

  it('--json gives the error code, the message and the hint', () => {
    const r = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--fact',
      'database.type=oracel',
      '--json',
    ]);

    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_FACTS_INVALID',
      message: expect.stringContaining('did you mean oracle?'),
      hint: expect.stringContaining('write oracle'),
    });
  });

  it('a facts file with a misspelt key exits 2 naming file, line and column', () => {
    const sample = readFileSync(
      join(repoRoot, 'profiles/securetransport/sample-facts.yaml'),
      'utf8',
    );
    const file = join(dir, 'misspelt.yaml');
    writeFileSync(file, sample.replace(/^database:/m, 'databse:'));
    const line = sample.split('\n').findIndex((l) => l.startsWith('database:')) + 1;

    const r = runCliProcess(['plan', '--profile', 'securetransport', '--facts', file]);

    expect(r.code).toBe(2);
    expect(flat(r.stderr)).toContain(`UPLIFT_FACTS_UNDECLARED ${file}:${line}:1`);
    expect(flat(r.stderr)).toContain('did you mean database?');
  });

  it('a YAML error in a facts file points at the line and column at fault', () => {
    const file = join(dir, 'unclosed.yaml');
    writeFileSync(
      file,
      'product: securetransport\nversion: 5.4 GA\ndatabase:\n  type: "oracle\nnetwork:\n  proxyConfigured: true\n',
    );

    const r = runCliProcess(['plan', '--profile', 'securetransport', '--facts', file]);

    expect(r.code).toBe(2);
    expect(flat(r.stderr)).toContain(`UPLIFT_FACTS_INVALID ${file}:4:9`);
  });

  it('--allow-undeclared lets an experiment through, with a warning', () => {
    const r = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--to',
      '5.5 GA',
      '--fact',
      'database.type=db2',
      '--fact',
      'experiment.nodes=3',
      '--allow-undeclared',
    ]);

    expect(r.code).not.toBe(2);
    expect(flat(r.stderr)).toContain('warning: --fact database.type=db2');
    expect(flat(r.stderr)).toContain('declares no fact "experiment.nodes"');
  });

  it('the sample facts of every shipped profile are accepted', () => {
    for (const p of ['skiff', 'securetransport', 'verdaccio']) {
      const r = runCliProcess([
        'plan',
        '--profile',
        p,
        '--facts',
        `profiles/${p}/sample-facts.yaml`,
        '--json',
      ]);

      expect(r.stderr, p).not.toContain('UPLIFT_FACTS');
      expect(JSON.parse(r.stdout), p).toHaveProperty('verdict');
    }
  });
});

describe('uplift profile schema --facts', () => {
  it('prints a JSON Schema that takes the sample facts and refuses a misspelt key', () => {
    const r = runCliProcess(['profile', 'schema', 'securetransport', '--facts']);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(r.stdout));
    const sample = parse(
      readFileSync(join(repoRoot, 'profiles/securetransport/sample-facts.yaml'), 'utf8'),
    );

    expect(r.code).toBe(0);
    expect(validate(sample), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...sample, databse: { type: 'oracle' } })).toBe(false);
    expect(validate({ ...sample, database: { ...sample.database, type: 'oracel' } })).toBe(false);
  });
});

describe('uplift facts --install checks what detection read against the declarations', () => {
  // A first profile (profile init), then declarations the installation does not meet: a value
  // outside the declared ones and a value of the wrong type.
  const install = join(dir, 'srv/widget');
  const profile = join(dir, 'profiles/widget');
  mkdirSync(join(install, 'config'), { recursive: true });
  writeFileSync(join(install, 'VERSION'), '1.4.0\n');
  writeFileSync(join(install, 'config/app.yaml'), 'listen: 8080\nworkers: many\n');

  it('warns about each one, in text and with --json, and still prints the facts', () => {
    expect(runCliProcess(['profile', 'init', profile, '--install', install]).code).toBe(0);
    const file = join(profile, 'profile.yaml');
    const manifest = parse(readFileSync(file, 'utf8'));
    manifest.facts['config.app.listen'] = {
      type: 'enum',
      values: [80, 443],
      description: 'The port.',
    };
    manifest.facts['config.app.workers'] = { type: 'integer', description: 'Worker processes.' };
    writeFileSync(file, stringify(manifest));

    const text = runCliProcess(['facts', '--install', install, '--profile', profile]);
    const json = runCliProcess(['facts', '--install', install, '--profile', profile, '--json']);

    expect(text.code, text.stderr).toBe(0);
    expect(flat(text.stderr)).toMatch(/warning: .*config\.app\.listen: 8080 is not one of 80, 443/);
    expect(flat(text.stderr)).toMatch(/warning: .*config\.app\.workers: expected a whole number/);
    expect(json.code, json.stderr).toBe(0);
    expect(flat(json.stderr)).toContain('config.app.listen: 8080 is not one of 80, 443');
    const facts = JSON.parse(json.stdout);
    expect(facts.config.app).toEqual({ listen: 8080, workers: 'many' });
    expect(facts.detection.declarationWarnings).toHaveLength(2);
    expect(facts.detection.declarationWarnings.join('\n')).toContain('config.app.workers');
  });

  it('warns about nothing when the facts meet the declarations', () => {
    const r = runCliProcess(['facts', '--install', install, '--profile', profile, '--json']);
    writeFileSync(join(install, 'config/app.yaml'), 'listen: 443\nworkers: 4\n');

    const again = runCliProcess(['facts', '--install', install, '--profile', profile, '--json']);

    expect(r.stderr).toContain('warning');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout).detection).not.toHaveProperty('declarationWarnings');
  });
});
