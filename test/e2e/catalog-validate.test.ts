import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../util/run-cli.ts';

const fixtures = 'test/fixtures/broken-catalogs';

describe('uplift catalog validate', () => {
  it.each`
    fixture                   | code                        | line  | col
    ${'bad-yaml.yaml'}        | ${'UPLIFT_CATALOG_YAML'}    | ${11} | ${1}
    ${'unknown-field.yaml'}   | ${'UPLIFT_CATALOG_INVALID'} | ${12} | ${7}
    ${'bad-version.yaml'}     | ${'UPLIFT_CATALOG_INVALID'} | ${9}  | ${14}
    ${'unknown-release.yaml'} | ${'UPLIFT_CATALOG_INVALID'} | ${15} | ${19}
    ${'stop-cycle.yaml'}      | ${'UPLIFT_CATALOG_INVALID'} | ${17} | ${7}
  `('refuses $fixture with $code at $line:$col', ({ fixture, code, line, col }) => {
    const file = `${fixtures}/${fixture}`;

    const r = runCliProcess(['catalog', 'validate', file]);

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}:${line}:${col}`);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toMatch(/hint: \S/);
    expect(r.stderr).toContain('Nothing was changed.');
  });

  it.each`
    fixture                   | code                        | line  | col   | path
    ${'bad-yaml.yaml'}        | ${'UPLIFT_CATALOG_YAML'}    | ${11} | ${1}  | ${undefined}
    ${'unknown-field.yaml'}   | ${'UPLIFT_CATALOG_INVALID'} | ${12} | ${7}  | ${'releases[1].notes.fixes'}
    ${'bad-version.yaml'}     | ${'UPLIFT_CATALOG_INVALID'} | ${9}  | ${14} | ${'releases[1].version'}
    ${'unknown-release.yaml'} | ${'UPLIFT_CATALOG_INVALID'} | ${15} | ${19} | ${'incompatibilities[0].introducedIn'}
    ${'stop-cycle.yaml'}      | ${'UPLIFT_CATALOG_INVALID'} | ${17} | ${7}  | ${'upgrade.requiredStops[1]'}
  `(
    'refuses $fixture with --json as one parseable object',
    ({ fixture, code, line, col, path }) => {
      const file = `${fixtures}/${fixture}`;

      const r = runCliProcess(['catalog', 'validate', file, '--json']);

      expect(r.code).toBe(2);
      const out = JSON.parse(r.stdout);
      expect(out).toEqual({
        error: expect.objectContaining({
          code,
          message: expect.stringMatching(/\S/),
          hint: expect.stringMatching(/\S/),
          location: path === undefined ? { file, line, col } : { file, line, col, path },
          unchanged: true,
        }),
      });
      expect(out.error.details[0].location).toMatchObject({ file, line, col });
    },
  );

  it('renders the error for an operator', () => {
    const r = runCliProcess(['catalog', 'validate', `${fixtures}/unknown-field.yaml`]);

    expect(r.stderr).toMatchInlineSnapshot(`
      "error UPLIFT_CATALOG_INVALID
            test/fixtures/broken-catalogs/unknown-field.yaml:12:7
        releases[1].notes.fixes: unknown field "fixes"
        hint: remove the field or correct its spelling (see docs/catalog.md for the
              fields)
        Nothing was changed.
      "
    `);
  });

  it.each(['profiles/securetransport/catalog.yaml', 'profiles/skiff/catalog.yaml'])(
    'accepts %s',
    (file) => {
      const r = runCliProcess(['catalog', 'validate', file]);
      const json = runCliProcess(['catalog', 'validate', file, '--json']);

      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^ok /);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        file,
        valid: true,
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      });
    },
  );

  it('refuses a file that does not exist', () => {
    const r = runCliProcess(['catalog', 'validate', `${fixtures}/missing.yaml`, '--json']);

    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'UPLIFT_FILE_NOT_FOUND' } });
  });
});

describe('uplift plan refuses bad input with exit 2', () => {
  const args = (line: string) => line.match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/"/g, '')) ?? [];

  it.each`
    flags                                                        | code
    ${'--profile securetransport --from "5.5 GA" --to "5.4 GA"'} | ${'UPLIFT_PLAN_DOWNGRADE'}
    ${'--profile securetransport --from "9.9 GA"'}               | ${'UPLIFT_PLAN_UNKNOWN_VERSION'}
    ${'--profile securetransport --from "5.4 GA" --to five'}     | ${'UPLIFT_PLAN_UNKNOWN_VERSION'}
    ${'--profile nope --from "5.4 GA"'}                          | ${'UPLIFT_PROFILE_UNKNOWN'}
  `('plan $flags: $code', ({ flags, code }) => {
    const argv = ['plan', ...args(flags)];

    const text = runCliProcess(argv);
    const json = runCliProcess([...argv, '--json']);

    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(code);
    expect(text.stderr).toMatch(/hint: \S/);
    expect(text.stderr).toContain('Nothing was changed.');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code, hint: expect.stringMatching(/\S/), unchanged: true },
    });
  });

  it.each`
    command
    ${'plan --profile skiff --bogus'}
    ${'plan --profile skiff --format yaml'}
    ${'plan --from "5.4 GA"'}
    ${'catalog validate'}
    ${'frobnicate'}
  `('usage error: $command', ({ command }) => {
    const r = runCliProcess(args(command));

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error/);
  });
});
