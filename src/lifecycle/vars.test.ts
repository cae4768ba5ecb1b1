// biome-ignore-all lint/suspicious/noTemplateCurlyInString: profile strings hold ${...} variables literally
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandVars, type LifecycleTarget, waitUntilReady } from './index.ts';
import { Lifecycle } from './schema.ts';

let root: string;
let factCalls = 0;

function target(over: Partial<LifecycleTarget> = {}): LifecycleTarget {
  return {
    install: join(root, 'install'),
    profileDir: join(root, 'profiles/example'),
    lifecycle: Lifecycle.parse({
      services: [{ name: 'server', start: { argv: ['bin/start'] }, pidFile: 'var/run/x.pid' }],
    }),
    version: '6.1.2',
    facts: async () => {
      factCalls++;
      return { server: { port: 4873, tls: false, name: 'main' }, volumes: ['a'] };
    },
    ...over,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'uplift-lifecycle-vars-'));
  await mkdir(join(root, 'install/var/run'), { recursive: true });
  await writeFile(join(root, 'install/var/run/server.port'), '  8443  \nsecond line\n');
  await writeFile(join(root, 'install/var/run/empty'), '\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('expandVars', () => {
  it.each`
    input                                              | expected
    ${'plain'}                                         | ${'plain'}
    ${'${install}/bin'}                                | ${'<root>/install/bin'}
    ${'${profile}/scripts/check.sh'}                   | ${'<root>/profiles/example/scripts/check.sh'}
    ${'${node}'}                                       | ${process.execPath}
    ${'v${version}'}                                   | ${'v6.1.2'}
    ${'http://127.0.0.1:${file:var/run/server.port}/'} | ${'http://127.0.0.1:8443/'}
    ${'${fact:server.port}/${fact:server.tls}'}        | ${'4873/false'}
  `('expands $input', async ({ input, expected }) => {
    expect(await expandVars(input, target())).toBe(expected.replace('<root>', root));
  });

  it('detects facts only when a string uses one, once per string', async () => {
    factCalls = 0;

    await expandVars('${install}', target());
    await expandVars('${fact:server.port}:${fact:server.name}', target());

    expect(factCalls).toBe(1);
  });

  it.each`
    input                             | message
    ${'${home}'}                      | ${/unknown variable \$\{home\}/}
    ${'${file:var/run/missing.port}'} | ${/missing.port cannot be read \(ENOENT\)/}
    ${'${file:var/run/empty}'}        | ${/first line of .*empty is empty/}
    ${'${file:../etc/passwd}'}        | ${/must name a file inside the installation/}
    ${'${fact:server.missing}'}       | ${/has no fact server.missing/}
    ${'${fact:server}'}               | ${/not a single value/}
  `('refuses $input with UPLIFT_LIFECYCLE_VAR and a hint', async ({ input, message }) => {
    const err = await expandVars(input, target()).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_LIFECYCLE_VAR', exitCode: 2, unchanged: false });
    expect(err.message).toMatch(message);
    expect(err.hint).toBeTruthy();
  });

  it('refuses ${version} where no version is known', async () => {
    await expect(expandVars('${version}', target({ version: undefined }))).rejects.toMatchObject({
      code: 'UPLIFT_LIFECYCLE_VAR',
    });
  });
});

describe('waitUntilReady', () => {
  it('fails at once on a probe with an unknown variable, before any round', async () => {
    const t = target({
      lifecycle: Lifecycle.parse({
        services: [{ name: 'server', start: { argv: ['bin/start'] }, pidFile: 'var/run/x.pid' }],
        readiness: { probes: [{ http: { url: 'http://127.0.0.1:${prot}/' } }], timeoutSeconds: 30 },
      }),
    });
    const started = Date.now();

    const err = await waitUntilReady(t).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_LIFECYCLE_VAR' });
    expect(err.message).toContain('uses the unknown variable ${prot}');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('Lifecycle', () => {
  const service = { name: 'server', run: { argv: ['x'] }, pidFile: 'var/run/x.pid' };

  it('applies the defaults', () => {
    const l = Lifecycle.parse({ services: [service] });

    expect(l.readiness).toEqual({
      probes: [],
      timeoutSeconds: 60,
      stableSeconds: 3,
      intervalMs: 200,
    });
    expect(l.smoke).toEqual({ tests: [], timeoutSeconds: 120 });
    expect(l.postSwitch).toEqual([]);
  });

  it.each`
    what                          | services                                               | message
    ${'a run pidFile glob'}       | ${[{ ...service, pidFile: 'var/run/*.pid' }]}          | ${'a run service needs one pidFile, not a glob'}
    ${'two services of one name'} | ${[service, { ...service, pidFile: 'var/run/y.pid' }]} | ${'two services are named server'}
    ${'two ways to start'}        | ${[{ ...service, start: { argv: ['y'] } }]}            | ${'give exactly one of start, run or systemd'}
    ${'no way to see it run'}     | ${[{ name: 'server', start: { argv: ['y'] } }]}        | ${'say how to tell the service runs'}
  `('refuses $what', ({ services, message }) => {
    const r = Lifecycle.safeParse({ services });

    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual(
      expect.arrayContaining([expect.stringContaining(message)]),
    );
  });
});
