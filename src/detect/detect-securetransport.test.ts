import { createHash } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProfileFor, loadProfile, type Profile } from '../profile/index.ts';
import { detectFacts } from './index.ts';

/**
 * The securetransport profile on an installation laid out as the upgrade guide documents it
 * (test/fixtures/securetransport-install, illustrative). The fixture is copied, so a test that
 * edits files never touches the checkout.
 */
const fixture = join(import.meta.dirname, '../../test/fixtures/securetransport-install');
let profile: Profile;
let tmp: string;
let install: string;

beforeAll(async () => {
  profile = await loadProfile('securetransport');
  tmp = await mkdtemp(join(tmpdir(), 'uplift-st-'));
  install = join(tmp, 'SecureTransport');
  await cp(join(fixture, 'SecureTransport'), install, { recursive: true });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Path, mode and content hash of every file: equal before and after means nothing was written. */
async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const visit = async (rel: string) => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      if (st.isDirectory()) await visit(path);
      else h.update(`${path}\0${st.mode}\0`).update(await readFile(join(dir, path)));
    }
  };
  await visit('');
  return h.digest('hex');
}

describe('securetransport detection on the documented layout', () => {
  it('reads the facts the guide asks about', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts).toMatchObject({
      product: 'securetransport',
      version: '5.3.6 Patch 2',
      ports: { tomcatConnector: 8009, tomcatConnectors: [8009] },
      tomcat: { jvmRoute: 'st-node1' },
      startScripts: { configFilePresent: true },
      startScriptsConfig: { TM_JAVA_MAX_MEMORY: '4096m' },
      data: { historyFiles: 3, historyBytes: 157 },
      security: { javaSecurityCustomized: true },
      javaSecurity: { tlsCustomized: true, certpathCustomized: false },
    });
    expect(facts.javaSecurity).toHaveProperty(
      'tlsDisabledAlgorithms',
      expect.stringContaining(
        '3DES_EDE_CBC, anon, NULL, include jdk.disabled.namedCurves, TLS_RSA_WITH_AES_128_CBC_SHA',
      ),
    );
    expect(facts.services).toStrictEqual([
      { name: 'sshd', pidFile: 'var/run/sshd.pid', pid: 4194311, running: false, leftover: true },
      { name: 'tm', pidFile: 'var/run/tm.pid', pid: 4194309, running: false, leftover: true },
    ]);
    expect(facts.data).toHaveProperty('installBytes', expect.any(Number));
    expect(facts.platform.id).toMatch(/^[a-z]+-[a-z0-9-]+$/);
  });

  it('leaves what needs a vendor manifest unknown, and says why', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts.customizedFiles).toBeUndefined();
    expect(facts).not.toHaveProperty('startScripts.customized');
    expect(facts.detection.warnings).toEqual([
      'no vendor manifest: customized files are unknown (give --vendor-manifest)',
    ]);
  });

  it('with a vendor manifest, lists the customized files and knows the start scripts were edited', async () => {
    const manifestFile = join(tmp, 'vendor-manifest.json');
    const files = [];
    for (const path of ['bin/start_all', 'bin/start_tm', 'conf/version.info', 'lib/README']) {
      const bytes = await readFile(join(install, path));
      files.push({
        path,
        size: bytes.length,
        mode: (await lstat(join(install, path))).mode & 0o777,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
    // The vendor's start_tm differs from the installed one: the customer edited it.
    (files[1] as { sha256: string }).sha256 = '0'.repeat(64);
    files.push({ path: 'bin/start_old', size: 1, mode: 0o755, sha256: '1'.repeat(64) });
    await writeFile(manifestFile, JSON.stringify({ version: '5.3.6 Patch 2', files }));

    const facts = await detectFacts(profile, install, { vendorManifest: manifestFile });

    expect(facts.customizedFiles?.changed).toEqual(['bin/start_tm']);
    expect(facts.customizedFiles?.removed).toEqual(['bin/start_old']);
    expect(facts.customizedFiles?.added).toContain('jre/conf/security/java.security');
    expect(facts.customizedFiles?.added).not.toContain('var/run/tm.pid');
    expect(facts).toMatchObject({
      startScripts: { customized: true, configFilePresent: true },
      brules: { customized: true },
      // The manifest's answer comes first; the stock-value comparison is only a fallback.
      security: { javaSecurityCustomized: true },
    });
    expect(facts.detection.warnings).toEqual([]);
  });

  it('marks the facts that rest on an illustrative input: the version file, the stock java.security lists', async () => {
    const facts = await detectFacts(profile, install);

    const marked = new Map(facts.detection.illustrative?.map((m) => [m.fact, m.reason]));
    // conf/version.info is the profile's choice, not the guide's.
    expect(marked.get('version')).toMatch(/version/);
    // Both comparisons read the invented stock lists, whatever their outcome.
    expect(marked.get('javaSecurity.tlsCustomized')).toMatch(/stock/);
    expect(marked.get('javaSecurity.certpathCustomized')).toMatch(/stock/);
    // Derived from an illustrative fact: true only because the TLS list differs from the invented one.
    expect(facts.security).toMatchObject({ javaSecurityCustomized: true });
    expect(marked.get('security.javaSecurityCustomized')).toMatch(/stock/);
    // Read from files the guide names: sourced.
    expect(marked.has('ports.tomcatConnector')).toBe(false);
    expect(marked.has('startScripts.configFilePresent')).toBe(false);
  });

  it('does not mark a comparison the stock list did not decide (the setting is absent)', async () => {
    const bare = join(tmp, 'bare');
    await cp(install, bare, { recursive: true });
    await rm(join(bare, 'jre/conf/security/java.security'));

    const facts = await detectFacts(profile, bare);

    const marked = new Set(facts.detection.illustrative?.map((m) => m.fact));
    expect(facts.security).toMatchObject({ javaSecurityCustomized: false });
    expect(marked.has('javaSecurity.tlsCustomized')).toBe(false);
    expect(marked.has('security.javaSecurityCustomized')).toBe(false);
  });

  it('is deterministic and writes nothing', async () => {
    const before = await treeHash(install);

    const a = await detectFacts(profile, install);
    const b = await detectFacts(profile, install);

    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(await treeHash(install)).toBe(before);
  });

  it('is found among the built-in profiles by its version file', async () => {
    const p = await findProfileFor(install);

    expect(p.manifest.name).toBe('securetransport');
  });

  describe('should error and not write if', () => {
    it('the folder is not an installation', async () => {
      const error = await detectFacts(profile, join(install, 'conf')).catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'UPLIFT_DETECT_NOT_INSTALLATION', exitCode: 2 });
      await expect(findProfileFor(join(install, 'conf'))).rejects.toMatchObject({
        code: 'UPLIFT_DETECT_NOT_INSTALLATION',
      });
    });

    it('server.xml is broken, naming its line', async () => {
      const broken = join(tmp, 'broken');
      await cp(install, broken, { recursive: true });
      const file = join(broken, 'tomcat/admin/conf/server.xml');
      await writeFile(file, '<Server>\n  <Service>\n    <Connector port="8009">\n</Server>\n');
      const before = await treeHash(broken);

      const error = await detectFacts(profile, broken).catch((e: unknown) => e);

      expect(error).toMatchObject({
        code: 'UPLIFT_DETECT_CONFIG',
        exitCode: 2,
        location: { file, line: 3 },
      });
      expect(await treeHash(broken)).toBe(before);
    });
  });
});
