import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createRandom } from '../../bench/random.ts';
import { applyFactFlags, loadFacts } from '../facts/index.ts';
import { mergeFile } from '../merge/index.ts';
import { matchOutput, runCommand } from './command.ts';
import { mergeFacts, setFact } from './fact-path.ts';
import { parseConfig } from './formats.ts';
import type { ConfigFormat } from './schema.ts';
import { readVersionSource } from './version-source.ts';

/**
 * Every reader gets documents with `__proto__`, `constructor` and `prototype` keys at random
 * depths; none may change `Object.prototype` or `Object`, and no object it returns may have
 * another prototype than a plain object's. Seeded, so a failure replays.
 */
const unsafe = ['__proto__', 'constructor', 'prototype'];
const rounds = 60;
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
const objectNames = Object.getOwnPropertyNames(Object).sort();

function checkUntouched(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toStrictEqual(protoNames);
  expect(Object.getOwnPropertyNames(Object).sort()).toStrictEqual(objectNames);
  expect(Object.prototype.toString.call({})).toBe('[object Object]');
}

/** Every object reachable from `value` is a plain object, an array or a Date, with no unsafe own key. */
function checkTree(value: unknown, seen = new Set<unknown>()): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  expect([Object.prototype, Array.prototype, Date.prototype, null]).toContain(proto);
  for (const key of Object.keys(value)) {
    expect(unsafe).not.toContain(key);
    checkTree((value as Record<string, unknown>)[key], seen);
  }
}

function makeRandom(seed: number) {
  const next = createRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]) => list[int(list.length)] as T;
  const key = () => (next() < 0.4 ? pick(unsafe) : pick(['a', 'b', 'port', 'x_y', 'polluted']));
  /** A nested mapping whose keys are often unsafe; `polluted` leaves are what would leak. */
  const tree = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 1 + int(3); i > 0; i--) {
      const k = key();
      const v =
        depth > 0 && next() < 0.6 ? tree(depth - 1) : pick([1, 'yes', true, { polluted: 'yes' }]);
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  const lines = (n: number, line: (k: string, i: number) => string) =>
    Array.from({ length: n }, (_, i) => line(key(), i)).join('\n');
  return { int, pick, key, tree, lines, next };
}

function toXml(tree: Record<string, unknown>): string {
  const el = (name: string, v: unknown): string =>
    typeof v === 'object' && v !== null
      ? `<${name} polluted="1">${Object.entries(v)
          .map(([k, x]) => el(k, x))
          .join('')}</${name}>`
      : `<${name}>${String(v)}</${name}>`;
  return `<?xml version="1.0"?>\n${el('root', tree)}\n`;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-proto-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  checkUntouched();
});

describe('no reader reaches Object.prototype', () => {
  it('configuration formats: json, yaml, xml, properties, ini, env, regex', () => {
    for (let seed = 1; seed <= rounds; seed++) {
      const r = makeRandom(seed);
      const tree = r.tree(1 + r.int(4));
      const docs: [ConfigFormat, string, string | undefined][] = [
        ['json', JSON.stringify(tree), undefined],
        ['yaml', stringify(tree), undefined],
        ['xml', toXml(tree), undefined],
        [
          'properties',
          r.lines(8, (k, i) => `${r.pick([k, `${k}.${r.key()}`])}${r.pick(['=', ': ', ' '])}v${i}`),
          undefined,
        ],
        ['ini', r.lines(8, (k, i) => (i % 3 === 0 ? `[${k}]` : `${k} = ${i}`)), undefined],
        [
          'env',
          r.lines(
            8,
            (k, i) => `${r.pick(['', 'export '])}${k}=${r.pick([`"v${i}"`, `'v${i}'`, `v${i}`])}`,
          ),
          undefined,
        ],
        ['regex', r.lines(8, (k, i) => `${k} -> ${i}`), '^(?<key>\\S+) -> (?<value>.*)$'],
        ['regex', r.lines(3, (k) => `set ${k}`), '^set (?<__proto__>\\S+)|(?<constructor>x)'],
      ];
      for (const [format, text, pattern] of docs) {
        const doc = parseConfig(text, format, `f.${format}`, { pattern });
        checkTree(doc.values);
        for (const path of [
          '__proto__',
          'constructor.prototype',
          'a.__proto__.polluted',
          'polluted',
        ])
          checkTree(doc.select(format === 'xml' ? '//root/@polluted' : path));
        checkUntouched();
      }
    }
  });

  it('reports the unsafe keys it left out, with their lines', () => {
    const doc = parseConfig(
      '[__proto__]\npolluted = 1\n[a]\nconstructor = 2\nb = 3\n',
      'ini',
      'f.ini',
    );

    expect(doc.values).toStrictEqual({ a: { b: 3 } });
    expect(doc.dropped).toStrictEqual([
      { key: '__proto__', line: 1 },
      { key: 'constructor', line: 4 },
    ]);
  });

  it('version sources and command output', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = makeRandom(seed);
      const tree = { ...r.tree(2), version: '1.2.3' };
      await writeFile(join(dir, 'package.json'), JSON.stringify(tree));
      await writeFile(join(dir, 'app.yaml'), stringify(tree));
      const json = await readVersionSource({ json: 'package.json', path: 'version' }, dir);
      const yaml = await readVersionSource({ yaml: 'app.yaml', path: 'version' }, dir);
      const proto = await readVersionSource({ json: 'package.json', path: '__proto__' }, dir);

      expect(json.version).toBe('1.2.3');
      expect(yaml.version).toBe('1.2.3');
      expect(proto.version).toBeUndefined();
    }
    const printed = '{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"polluted":1}}}}';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: uplift's placeholder, not a template
    const node = '${node}';
    const out = await runCommand(
      { argv: [node, '-e', `console.log(${JSON.stringify(printed)})`], timeoutSeconds: 10 },
      dir,
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(matchOutput(out, '(?<value>__proto__)', 'value')).toBe('__proto__');
    checkTree(parseConfig(out.stdout, 'json', 'stdout').values);
  });

  it('facts files refuse unsafe keys with their line; --fact flags refuse them', async () => {
    for (let seed = 1; seed <= rounds; seed++) {
      const r = makeRandom(seed);
      const tree = { version: '1.0', nested: r.tree(1 + r.int(3)) };
      const file = join(dir, `facts-${seed}.yaml`);
      await writeFile(file, r.next() < 0.5 ? stringify(tree) : JSON.stringify(tree));
      const hasUnsafe = JSON.stringify(tree).match(/"(__proto__|constructor|prototype)"/);

      const loaded = await loadFacts(file).catch((e: unknown) => e);

      if (hasUnsafe) {
        expect(loaded).toMatchObject({
          code: 'UPLIFT_FACTS_INVALID',
          location: { file, line: expect.any(Number) },
        });
      } else checkTree(loaded);
      const path = Array.from({ length: 1 + r.int(4) }, () => r.key()).join('.');
      const flagged = (() => {
        try {
          return applyFactFlags({}, [`${path}=1`, `${path}.polluted=yes`]);
        } catch (e) {
          return e;
        }
      })();
      if (path.split('.').some((k) => unsafe.includes(k)))
        expect(flagged).toMatchObject({ code: 'UPLIFT_USAGE' });
      else checkTree(flagged);
      checkUntouched();
    }
  });

  it('merging facts and setting facts', () => {
    for (let seed = 1; seed <= rounds; seed++) {
      const r = makeRandom(seed);

      const merged = mergeFacts({ a: { b: 1 } }, r.tree(3) as never);
      const facts = {};
      setFact(facts, 'a.b', r.tree(2));

      checkTree(merged);
      expect(() => setFact(facts, `${r.pick(unsafe)}.polluted`, 1)).toThrow();
    }
  });

  it('merges of JSON, YAML, XML and properties keep unsafe keys as data', () => {
    for (let seed = 1; seed <= rounds; seed++) {
      const r = makeRandom(seed);
      const base = r.tree(2);
      const ours = { ...base, a: r.tree(2) };
      const theirs = { ...base, b: r.tree(2) };
      const props = (t: Record<string, unknown>) =>
        Object.keys(t)
          .map((k) => `${k}=${JSON.stringify(t[k])}`)
          .join('\n');

      const sides = [
        ['json', JSON.stringify],
        ['yaml', stringify],
        ['xml', toXml],
        ['properties', props],
      ] as const;
      for (const [format, write] of sides) {
        const [b, o, t] = [base, ours, theirs].map((x) => Buffer.from(write(x)));
        mergeFile({
          path: `conf/x.${format}`,
          format,
          base: b ?? null,
          ours: o ?? null,
          theirs: t ?? null,
        });
      }

      checkUntouched();
    }
  });
});
