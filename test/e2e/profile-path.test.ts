import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProfile, recordProfile } from '../../src/profile/index.ts';
import { cliPath, repoRoot } from '../util/run-cli.ts';

/**
 * Profiles from anywhere: UPLIFT_PROFILE_PATH before the built-in ones, a profile folder by path
 * (symlinks resolved), `uplift profile init` for a new product, and the profile an installation
 * was upgraded with, recorded beside it and used by the run commands without --profile.
 */
const root = mkdtempSync(join(tmpdir(), 'uplift-profile-path-'));
const shelf = join(root, 'shelf');
const single = join(root, 'single/gizmo');
const builtIn = join(repoRoot, 'profiles');

afterAll(() => rmSync(root, { recursive: true, force: true }));

function uplift(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', UPLIFT_PROFILE_PATH: '', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A product folder with what profile init reads: a version file, configuration, data. */
function makeInstallation(dir: string, version = '2.4.1') {
  mkdirSync(join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, 'storage'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `${version}\n`);
  writeFileSync(join(dir, 'config/app.yaml'), 'listen: 8080\nstorage: ./storage\n');
  writeFileSync(join(dir, '.env'), 'LOG_LEVEL=info\n');
  writeFileSync(join(dir, 'config/cache.ini'), '[cache]\nsize = 10\n');
  writeFileSync(join(dir, 'storage/blob-1'), 'data');
}

describe('UPLIFT_PROFILE_PATH', () => {
  // A folder of profiles (one shadows a built-in name) and a single profile folder.
  cpSync(join(builtIn, 'skiff'), join(shelf, 'skiff'), { recursive: true });
  const install = join(root, 'opt/gizmo');
  makeInstallation(install);
  const init = uplift(['profile', 'init', single, '--install', install, '--json']);

  it('lists every profile with where it is from, the shadowed built-in flagged', () => {
    const r = uplift(['profiles', '--json'], { UPLIFT_PROFILE_PATH: `${shelf}:${single}` });

    expect(init.code, init.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      name: string;
      dir: string;
      source: string;
      shadowed: boolean;
      shadowedBy?: string;
    }[];
    expect(rows.filter((p) => p.name === 'skiff')).toEqual([
      expect.objectContaining({ dir: join(shelf, 'skiff'), source: 'env', shadowed: false }),
      expect.objectContaining({
        dir: join(builtIn, 'skiff'),
        source: 'built-in',
        shadowed: true,
        shadowedBy: join(shelf, 'skiff'),
      }),
    ]);
    expect(rows.find((p) => p.name === 'gizmo')).toMatchObject({ dir: single, source: 'env' });
  });

  it('finds a profile by name on the path, and by folder (a symlink behaves the same)', () => {
    symlinkSync(single, join(root, 'gizmo-link'));

    const byName = uplift(['facts', '--install', install, '--profile', 'gizmo', '--json'], {
      UPLIFT_PROFILE_PATH: single,
    });
    const byLink = uplift(['facts', '--install', install, '--profile', './gizmo-link', '--json']);
    const unknown = uplift(['facts', '--install', install, '--profile', 'gizmo', '--json']);

    expect(byName.code, byName.stderr).toBe(0);
    expect(JSON.parse(byName.stdout)).toMatchObject({ product: 'gizmo', version: '2.4.1' });
    expect(byLink.code, byLink.stderr).toBe(0);
    expect(JSON.parse(byLink.stdout).detection).toEqual(JSON.parse(byName.stdout).detection);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('UPLIFT_PROFILE_UNKNOWN');
  });
});

describe('uplift profile init', () => {
  const install = join(root, 'srv/thing');
  makeInstallation(install, '3.0.2');
  const dir = join(root, 'new-profiles/thing');

  it('writes a commented skeleton that the loader accepts, with what it found', async () => {
    const r = uplift(['profile', 'init', dir, '--install', install, '--json']);

    expect(r.code, r.stderr).toBe(0);
    const p = await loadProfile(dir);
    expect(p.manifest).toMatchObject({
      name: 'thing',
      detection: { version: { file: 'VERSION' } },
      paths: { data: ['storage/**'], config: ['.env', 'config/app.yaml', 'config/cache.ini'] },
    });
    expect(p.manifest.lifecycle?.services).toHaveLength(1);
    expect(p.manifest.lifecycle?.readiness.probes).toHaveLength(1);
    expect(p.catalog.versions).toEqual(['3.0.2']);
    expect(readFileSync(join(dir, 'profile.yaml'), 'utf8')).toMatch(/^# /m);
  });

  it('declares the facts its skeleton reads, so the profile starts checked', () => {
    const schema = uplift(['profile', 'schema', dir, '--facts']);
    const facts = uplift(['facts', '--install', install, '--profile', dir]);

    expect(schema.code, schema.stderr).toBe(0);
    expect(Object.keys(JSON.parse(schema.stdout).properties.config.anyOf[0].properties)).toEqual([
      'app',
      'cache',
      'env',
    ]);
    expect(facts.code, facts.stderr).toBe(0);
    expect(facts.stderr).toBe('');
    const typo = uplift(['plan', '--profile', dir, '--from', '3.0.2', '--fact', 'config.ap.x=1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.replace(/\s+/g, ' ')).toContain('did you mean config.app?');
  });

  it('reads the installation it was made from', () => {
    const r = uplift(['facts', '--install', install, '--profile', dir, '--json']);

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      product: 'thing',
      version: '3.0.2',
      config: { app: { listen: 8080 } },
    });
  });

  it('takes the version from package.json when there is no version file', async () => {
    const node = join(root, 'srv/node-app');
    mkdirSync(node, { recursive: true });
    writeFileSync(join(node, 'package.json'), '{ "name": "x", "version": "1.2.3" }\n');

    const r = uplift(['profile', 'init', join(root, 'p/node-app'), '--install', node]);

    expect(r.code, r.stderr).toBe(0);
    expect((await loadProfile(join(root, 'p/node-app'))).catalog.versions).toEqual(['1.2.3']);
  });

  describe('should error and not write if', () => {
    it('the folder already holds a profile.yaml (without --force)', () => {
      const before = readFileSync(join(dir, 'profile.yaml'), 'utf8');
      appendFileSync(join(dir, 'profile.yaml'), '# edited\n');

      const r = uplift(['profile', 'init', dir, '--install', install, '--json']);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('UPLIFT_PROFILE_EXISTS');
      expect(readFileSync(join(dir, 'profile.yaml'), 'utf8')).toBe(`${before}# edited\n`);
      expect(uplift(['profile', 'init', dir, '--install', install, '--force']).code).toBe(0);
      expect(readFileSync(join(dir, 'profile.yaml'), 'utf8')).toBe(before);
    });

    it('the installation does not exist', () => {
      const r = uplift(['profile', 'init', join(root, 'p/none'), '--install', join(root, 'no')]);

      expect(r.code).toBe(2);
      expect(existsSync(join(root, 'p/none'))).toBe(false);
    });
  });
});

describe('the profile recorded for an installation', () => {
  const parent = join(root, 'recorded');
  const install = join(parent, 'gadget');
  const profileDir = join(root, 'moving/gadget');
  makeInstallation(install, '1.0.0');
  const stateDir = join(parent, '.gadget.uplift');

  it('is used by status and history without --profile', async () => {
    expect(uplift(['profile', 'init', profileDir, '--install', install]).code).toBe(0);
    await recordProfile(stateDir, await loadProfile(profileDir));

    const status = uplift(['status', '--install', install, '--json']);
    const history = uplift(['history', '--install', install, '--json']);

    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      profile: { name: 'gadget', dir: profileDir, from: 'recorded' },
      warnings: [],
    });
    expect(JSON.parse(history.stdout).profile).toMatchObject({ name: 'gadget', from: 'recorded' });
    expect(status.stderr).toBe('');
  });

  it('is used by facts and plan with --install alone (no recognition needed)', () => {
    const r = uplift(['facts', '--install', install, '--json']);

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).product).toBe('gadget');
  });

  it('warns, naming the folder, when the profile changed since', () => {
    appendFileSync(join(profileDir, 'catalog.yaml'), '# changed\n');

    const r = uplift(['status', '--install', install, '--json']);

    expect(r.code).toBe(0);
    // Warnings wrap to the width like all text for people.
    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      `warning: the profile gadget in ${profileDir} changed`,
    );
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.stringContaining(profileDir)]);
  });

  it('is an error with a hint to pass --profile when its folder is gone (status only warns)', () => {
    renameSync(profileDir, `${profileDir}-moved`);

    const resume = uplift(['resume', '--install', install, '--json']);
    const status = uplift(['status', '--install', install, '--json']);
    const withFlag = uplift([
      'resume',
      '--install',
      install,
      '--profile',
      `${profileDir}-moved`,
      '--json',
    ]);

    expect(resume.code).toBe(2);
    expect(JSON.parse(resume.stdout).error).toMatchObject({
      code: 'UPLIFT_PROFILE_MISSING',
      hint: expect.stringContaining('--profile'),
    });
    expect(status.code).toBe(0);
    expect(status.stderr.replace(/\s+/g, ' ')).toContain('is gone');
    expect(withFlag.code, withFlag.stderr).toBe(0);
    expect(JSON.parse(withFlag.stdout).profile.from).toBe('flag');
  });
});
