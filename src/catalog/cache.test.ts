import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpliftError } from '../errors/index.ts';
import { loadCatalogCached } from './cache.ts';
import { loadCatalog } from './index.ts';
import type { LoadedCatalog } from './resolve.ts';
import type { VersionPattern } from './version-pattern.ts';

const text = `${dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  releases:
    - { version: 5.4 GA, kind: ga }
    - { version: 5.3.0 Patch 1, kind: patch }
    - { version: 5.3.0 GA, kind: ga }
  upgrade:
    requiredStops:
      - { release: "5.3.0", take: latest-patch }
    edges:
      - { from: 5.3.0 GA, to: 5.4 GA, downtimeMinutes: 12 }
    blocked:
      - { from: ">=5.3.0 GA, <5.3.0 Patch 1", to: "5.4", reason: r }
  durations:
    downloadBytesPerSecond: 1000000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 20 }
    validate: { seconds: 300 }
    rollback: { seconds: 120 }
  illustrative: true
  reason: a catalog written for a test
`}\n`;

let work: string;
let cache: string;
let file: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-catalog-cache-'));
  cache = join(work, 'cache');
  file = join(work, 'catalog.yaml');
  await writeFile(file, text);
  vi.stubEnv('UPLIFT_CACHE_DIR', cache);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(work, { recursive: true, force: true });
});

/** What the planner reads of a loaded catalog, comparable with toEqual. */
function planned(c: LoadedCatalog) {
  return {
    file: c.file,
    digest: c.digest,
    catalog: c.catalog,
    versions: c.versions,
    stops: c.stops,
    edges: [...c.edgesFrom].map(([from, es]) => [from, es.map((e) => [e.to, e.downtimeMinutes])]),
    blocked: c.blocked.map((b) => c.versions.filter((v) => b.from.matches(v))),
  };
}

/**
 * Everything a loaded catalog holds, comparable with toEqual: the scheme by its id, and each
 * version pattern by its source, its exact version and the catalog versions it matches.
 */
function everything(c: LoadedCatalog): unknown {
  const isPattern = (v: object): v is VersionPattern =>
    typeof (v as VersionPattern).matches === 'function';
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    let out: unknown;
    if (isPattern(v))
      out = { source: v.source, exact: v.exact, matches: c.versions.filter((x) => v.matches(x)) };
    else if (Array.isArray(v)) out = v.map(walk);
    else if (v instanceof Map) out = new Map([...v].map(([k, x]) => [walk(k), walk(x)]));
    else if (v instanceof Set) out = new Set([...v].map(walk));
    else out = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    seen.set(v, out);
    return out;
  };
  const { scheme, ...rest } = c;
  return { ...(walk(rest) as object), scheme: scheme.id };
}

const repoCatalogs = ['securetransport', 'skiff', 'verdaccio']
  .map((p) => join(import.meta.dirname, '../../profiles', p, 'catalog.yaml'))
  .concat(join(import.meta.dirname, '../../test/fixtures/tiny-product/profile/catalog.yaml'));

async function cacheEntries(): Promise<string[]> {
  return (await readdir(cache).catch(() => [])).filter((n) => n.startsWith('catalog-'));
}

describe('the catalog cache', () => {
  it('serves the second load of the same bytes, with what a full load gives', async () => {
    const first = await loadCatalogCached(file);
    const second = await loadCatalogCached(file);

    expect(first.cache).toBe('miss');
    expect(second.cache).toBe('hit');
    expect(await cacheEntries()).toHaveLength(1);
    expect(planned(second.catalog)).toEqual(planned(first.catalog));
    expect(planned(second.catalog).blocked).toEqual([['5.3.0 GA']]);
  });

  it('is what loadCatalog uses', async () => {
    await loadCatalog(file);

    expect(await cacheEntries()).toHaveLength(1);
    expect((await loadCatalogCached(file)).cache).toBe('hit');
  });

  it('is stale once the file changes, and the change is read', async () => {
    await loadCatalogCached(file);
    await writeFile(file, text.replace('title: Demo', 'title: Demo 2'));

    const changed = await loadCatalogCached(file);

    expect(changed.cache).toBe('miss');
    expect(changed.catalog.catalog.title).toBe('Demo 2');
    expect((await loadCatalogCached(file)).cache).toBe('hit');
    expect(await cacheEntries()).toHaveLength(1);
  });

  it('ignores and rebuilds an entry that is not JSON', async () => {
    const full = await loadCatalogCached(file);
    const [entry] = await cacheEntries();
    await writeFile(join(cache, entry as string), 'not json at all {');

    const again = await loadCatalogCached(file);

    expect(again.cache).toBe('miss');
    expect(planned(again.catalog)).toEqual(planned(full.catalog));
    expect((await loadCatalogCached(file)).cache).toBe('hit');
  });

  it('ignores an entry whose catalog was altered after it was written', async () => {
    const full = await loadCatalogCached(file);
    const path = join(cache, (await cacheEntries())[0] as string);
    await writeFile(path, (await readFile(path, 'utf8')).replace('"Demo"', '"Forged"'));

    const again = await loadCatalogCached(file);

    expect(again.cache).toBe('miss');
    expect(again.catalog.catalog.title).toBe('Demo');
    expect(planned(again.catalog)).toEqual(planned(full.catalog));
  });

  it.each(repoCatalogs)('gives back everything the full check gave for %s', async (source) => {
    await copyFile(source, file);

    const full = await loadCatalogCached(file);
    const cached = await loadCatalogCached(file);

    expect([full.cache, cached.cache]).toEqual(['miss', 'hit']);
    expect(everything(cached.catalog)).toEqual(everything(full.catalog));
    for (const r of cached.catalog.catalog.releases)
      expect(cached.catalog.releases.get(r.version)).toBe(r);
  });

  it('ignores an entry written by another validator', async () => {
    await loadCatalogCached(file);
    const path = join(cache, (await cacheEntries())[0] as string);
    const bytes = await readFile(path, 'utf8');
    await writeFile(path, bytes.replace(/"validator":"[0-9a-f]+"/, '"validator":"0000"'));

    const again = await loadCatalogCached(file);

    expect(again.cache).toBe('miss');
    expect((await loadCatalogCached(file)).cache).toBe('hit');
  });

  it('ignores an entry cut short', async () => {
    await loadCatalogCached(file);
    const path = join(cache, (await cacheEntries())[0] as string);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));

    const again = await loadCatalogCached(file);

    expect(again.cache).toBe('miss');
    expect(again.catalog.versions).toEqual(['5.3.0 GA', '5.3.0 Patch 1', '5.4 GA']);
  });

  it('still loads when the cache folder cannot be written', async () => {
    const blocker = join(work, 'a-file');
    await writeFile(blocker, 'not a folder');
    vi.stubEnv('UPLIFT_CACHE_DIR', join(blocker, 'cache'));

    const first = await loadCatalogCached(file);
    const second = await loadCatalogCached(file);

    expect(first.cache).toBe('miss');
    expect(second.cache).toBe('miss');
    expect(second.catalog.versions).toEqual(['5.3.0 GA', '5.3.0 Patch 1', '5.4 GA']);
  });

  it('is not used with UPLIFT_CACHE_DIR=off', async () => {
    vi.stubEnv('UPLIFT_CACHE_DIR', 'off');

    const first = await loadCatalogCached(file);

    expect(first.cache).toBe('off');
    expect((await loadCatalogCached(file)).cache).toBe('off');
    expect(await cacheEntries()).toEqual([]);
  });

  it('never stores a refused catalog, which is refused at the same place every time', async () => {
    await writeFile(file, text.replace('take: latest-patch', 'take: newest'));

    const refusals: UpliftError[] = [];
    for (let i = 0; i < 2; i++)
      refusals.push(
        await loadCatalogCached(file).then(
          () => Promise.reject(),
          (e) => e,
        ),
      );

    expect(await cacheEntries()).toEqual([]);
    for (const err of refusals)
      expect(err).toMatchObject({
        code: 'UPLIFT_CATALOG_INVALID',
        location: { file, line: 11, col: 33, path: 'upgrade.requiredStops[0].take' },
      });
  });
});

describe('the catalog file', () => {
  it('is refused at once when it is a FIFO, not waited on', async () => {
    const fifo = join(work, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);

    await expect(loadCatalog(fifo)).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      location: { file: fifo },
    });
  });

  it.each([
    ['Latin-1', Buffer.from(text.replace('title: Demo', 'title: D\xe9mo'), 'latin1'), 3, /UTF-8/],
    ['UTF-16 with a byte order mark', Buffer.from(`\ufeff${text}`, 'utf16le'), 1, /UTF-16/],
    ['UTF-16 without a byte order mark', Buffer.from(text, 'utf16le'), 1, /UTF-16/],
  ])('is refused in %s, naming the file and the line', async (_, bytes, line, why) => {
    await writeFile(file, bytes);

    const err = (await loadCatalog(file).catch((e: unknown) => e)) as UpliftError;

    expect(err).toMatchObject({ code: 'UPLIFT_CATALOG_YAML', location: { file, line } });
    expect(err.message).toMatch(why);
  });

  it('may start with a UTF-8 byte order mark', async () => {
    await writeFile(file, `\ufeff${text}`);

    expect((await loadCatalog(file)).catalog.title).toBe('Demo');
  });
});
