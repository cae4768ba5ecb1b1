import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCliProcess } from '../test/util/run-cli.ts';
import { publishedSchemas, renderSchema } from '../tools/schemas.ts';

const schemas = publishedSchemas();

describe('published JSON Schemas', () => {
  it.each(Object.keys(schemas))(
    '%s matches the zod schema (run npm run gen:schemas after a change)',
    async (name) => {
      await expect(renderSchema(schemas[name])).toMatchFileSnapshot(
        join(import.meta.dirname, name),
      );
    },
  );

  it.each([
    [
      'skiff sample',
      [
        'plan',
        '--profile',
        'skiff',
        '--facts',
        'profiles/skiff/sample-facts.yaml',
        '--to',
        'latest',
        '--format',
        'json',
      ],
    ],
    [
      'securetransport sample',
      [
        'plan',
        '--profile',
        'securetransport',
        '--facts',
        'profiles/securetransport/sample-facts.yaml',
        '--json',
      ],
    ],
    [
      'manual step, no facts',
      ['plan', '--profile', 'securetransport', '--from', '5.2.1 SP9', '--to', '5.5', '--json'],
    ],
    ['up to date', ['plan', '--profile', 'skiff', '--from', '5.5 GA', '--json']],
  ])('real `uplift plan` JSON validates against plan.schema.json (%s)', (_name, args) => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(import.meta.dirname, 'plan.schema.json'), 'utf8')),
    );

    const res = runCliProcess(args);

    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    expect(validate(plan), ajv.errorsText(validate.errors)).toBe(true);
    expect(plan).toHaveProperty('verdict');
    expect(Array.isArray(plan.steps)).toBe(true);
  });

  it('accepts the shipped catalogs and sample facts', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const catalog = ajv.compile(
      JSON.parse(readFileSync(join(import.meta.dirname, 'catalog.schema.json'), 'utf8')),
    );
    const facts = ajv.compile(
      JSON.parse(readFileSync(join(import.meta.dirname, 'facts.schema.json'), 'utf8')),
    );
    const root = join(import.meta.dirname, '..');

    for (const p of ['skiff', 'securetransport']) {
      const c = parse(readFileSync(join(root, 'profiles', p, 'catalog.yaml'), 'utf8'));
      const f = parse(readFileSync(join(root, 'profiles', p, 'sample-facts.yaml'), 'utf8'));
      expect(catalog(c), ajv.errorsText(catalog.errors)).toBe(true);
      expect(facts(f), ajv.errorsText(facts.errors)).toBe(true);
    }
  });

  describe('the facts schema of each shipped profile', () => {
    const root = join(import.meta.dirname, '..');
    const declaring = readdirSync(join(root, 'profiles')).filter((p) =>
      /^facts:/m.test(readFileSync(join(root, 'profiles', p, 'profile.yaml'), 'utf8')),
    );

    it('is published for every profile that declares facts', () => {
      expect(declaring.length).toBeGreaterThan(0);
      expect(Object.keys(schemas)).toEqual(
        expect.arrayContaining(declaring.map((p) => `facts-${p}.schema.json`)),
      );
    });

    it.each(declaring)('%s: takes its sample facts, names them from its editor comment', (p) => {
      const file = `facts-${p}.schema.json`;
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      const validate = ajv.compile(
        JSON.parse(readFileSync(join(import.meta.dirname, file), 'utf8')),
      );
      const text = readFileSync(join(root, 'profiles', p, 'sample-facts.yaml'), 'utf8');

      const ok = validate(parse(text));

      expect(ok, ajv.errorsText(validate.errors)).toBe(true);
      expect(text).toMatch(
        new RegExp(
          `^# yaml-language-server: \\$schema=\\.\\./\\.\\./schemas/${file.replaceAll('.', '\\.')}$`,
          'm',
        ),
      );
      expect(validate({ ...parse(text), vresion: '1' })).toBe(false);
    });
  });
});
