import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uplift } from './apply-skiff.ts';
import { repoRoot } from './run-cli.ts';
import { hashTree } from './tree-hash.ts';
import { writeCatalogCopy, writeVendorZip } from './vendor-zip.ts';

/**
 * An Axway home for the vendor-installer method: `SecureTransport/` (the documented layout of
 * test/fixtures/securetransport-install, with working start/stop scripts) and `Installer/` (a
 * stand-in update.sh), at `5.3.6 Patch 2`; and a vendor zip for the hop to `5.3.6 Patch 50` with a
 * catalog copy carrying its size and checksums. See test/fixtures/securetransport-installer.
 */
export const from = '5.3.6 Patch 2';
export const to = '5.3.6 Patch 50';

export interface StHome {
  home: string;
  install: string;
  installer: string;
  packs: string;
  catalog: string;
}

const fixtures = join(repoRoot, 'test/fixtures');

/** A tar update file: update.properties and files/ (what the stand-in update.sh reads). */
function updateTar(dir: string, name: string, props: string, files: Record<string, string>) {
  const src = join(dir, `${name}.src`);
  spawnSync('mkdir', ['-p', join(src, 'files')]);
  const r = spawnSync('sh', ['-c', 'cat > update.properties'], { cwd: src, input: props });
  if (r.status !== 0) throw new Error('update.properties');
  for (const [path, body] of Object.entries(files)) {
    spawnSync('mkdir', ['-p', join(src, 'files', path, '..')]);
    spawnSync('sh', ['-c', `cat > "files/${path}"`], { cwd: src, input: body });
  }
  const out = join(dir, `${name}.tar`);
  const t = spawnSync('tar', ['-cf', out, '--owner=0', '--group=0', '-C', src, '.']);
  if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
  return out;
}

/** The files the product update writes (three, so fail-midway stops after two). */
export const productFiles = {
  'lib/st-core.jar': `SecureTransport core (fixture) ${to}\n`,
  'lib/st-protocols.jar': 'protocols (new in Patch 50)\n',
  'tomcat/admin/webapps/admin.war': 'admin console Patch 50\n',
};

export async function makeStHome(root: string, name: string): Promise<StHome> {
  const home = join(root, name);
  const install = join(home, 'SecureTransport');
  const installer = join(home, 'Installer');
  await mkdir(home, { recursive: true });
  await cp(join(fixtures, 'securetransport-install/SecureTransport'), install, {
    recursive: true,
  });
  await cp(join(fixtures, 'securetransport-installer/SecureTransport'), install, {
    recursive: true,
  });
  await cp(join(fixtures, 'securetransport-installer/Installer'), installer, { recursive: true });
  for (const f of await readdir(join(install, 'var/run'))) await rm(join(install, 'var/run', f));

  const packs = join(root, `${name}-packs`);
  await mkdir(packs, { recursive: true });
  const plan = uplift(['plan', '--install', install, '--to', to, '--format', 'json']);
  if (plan.code !== 0) throw new Error(`plan: ${plan.stderr}`);
  const step = (JSON.parse(plan.stdout) as { steps: { pack: { file: string } }[] }).steps[0];
  const file = step?.pack.file as string;
  const work = join(root, `${name}-work`);
  await mkdir(work, { recursive: true });
  const step1 = updateTar(work, 'installer', `component=installer\nversion=${to}\n`, {
    'lib/installer-core.jar': 'installer core Patch 50\n',
  });
  const step2 = updateTar(
    work,
    'product',
    `component=securetransport\nversion=${to}\n`,
    productFiles,
  );
  const zip = await writeVendorZip(join(packs, file), [
    { name: 'UpgradeStep1/', dir: true },
    { name: 'UpgradeStep1/AxwayInstaller_update_linux.tar', data: await readFile(step1) },
    { name: 'UpgradeStep2/', dir: true },
    { name: 'UpgradeStep2/SecureTransport_update_linux.tar', data: await readFile(step2) },
  ]);
  const catalog = writeCatalogCopy(join(root, `${name}-catalog.yaml`), {
    [file]: { size: zip.size, md5: zip.md5, sha256: zip.sha256 },
  });
  await rm(work, { recursive: true, force: true });
  return { home, install, installer, packs, catalog };
}

export function applyArgs(h: StHome, ...more: string[]): string[] {
  return [
    'apply',
    '--install',
    h.install,
    '--to',
    to,
    '--packs',
    h.packs,
    '--catalog',
    h.catalog,
    // Detection cannot tell this test installation's database: the plan is not-recommended.
    '--accept-risk',
    'database checked by hand (test installation)',
    '--yes',
    '--json',
    ...more,
  ];
}

/** Runtime state a start rewrites (pids): compared separately. */
export const runtime = (p: string) => p === 'var/run' || p.startsWith('var/run/');

/** Both directories' tree hashes (content, modes, owners), runtime state left out. */
export async function homeHash(h: StHome): Promise<{ install: string; installer: string }> {
  return {
    install: (await hashTree(h.install, { ignore: runtime })).hash,
    installer: (await hashTree(h.installer)).hash,
  };
}

/** Live pids of the installation's services. */
export async function livePids(install: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of await readdir(join(install, 'var/run')).catch(() => [] as string[])) {
    const pid = Number((await readFile(join(install, 'var/run', f), 'utf8')).trim());
    try {
      process.kill(pid, 0);
      out[f] = pid;
    } catch {
      // Not running.
    }
  }
  return out;
}

export async function stopAll(install: string): Promise<void> {
  for (const pid of Object.values(await livePids(install))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}

export async function writeText(file: string, text: string): Promise<void> {
  await writeFile(file, text);
}
