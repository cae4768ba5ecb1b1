import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSkiff, type SkiffApi, scratchRoot } from './apply-skiff.ts';
import { freePort } from './free-port.ts';
import { repoRoot } from './run-cli.ts';

export type Side = 'a' | 'b';

export interface SkiffSide {
  side: Side;
  install: string;
  /** The fixed port the side's server listens on (a balancer's `server` line needs one). */
  port: number;
  /** `127.0.0.1:<port>`, as a balancer names it. */
  address: string;
  /** bin/start_all (the profile's start command): returns when /health answers. */
  start(): Promise<void>;
  /** bin/stop_all (the profile's stop command): transfers in progress finish first. */
  stop(): Promise<void>;
}

export interface SkiffPair {
  /** The scratch folder everything lives in. */
  root: string;
  /** The data folder both sides use (`data.dir`): their shared storage. */
  shared: string;
  sides: Record<Side, SkiffSide>;
  /** An account both sides know (one conf/accounts.json, copied), made for the pair. */
  account: { name: string; password: string };
  skiff: SkiffApi;
  /** Stops both sides and removes `root`. */
  dispose(): Promise<void>;
}

export interface SkiffPairOptions {
  /** The scratch folder's name prefix. */
  prefix: string;
  /** The version of a sample installation made as the template (default `5.4 GA`). */
  version?: string;
  /** A stopped skiff installation to copy instead (e.g. an apply fixture's template). */
  template?: string;
  /** Where the scratch folder goes (default `scratchRoot(prefix)`). */
  root?: string;
}

/** Rewrites one `key=value` line of a properties file, or adds it. */
function setProperty(file: string, key: string, value: string): void {
  const text = readFileSync(file, 'utf8');
  const line = new RegExp(`^${key.replace(/\./g, '\\.')}\\s*[=:].*$`, 'm');
  writeFileSync(
    file,
    line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}${key}=${value}\n`,
  );
}

/**
 * The active/passive pair of skiff the guide's prerequisite describes: two installations (side a,
 * side b) that a client behind a balancer uses interchangeably. Both are copies of one stopped
 * installation (`template`, else a fresh sample of `version`), so they hold the same accounts and
 * settings; both keep uploads in one shared folder (`data.dir` in conf/skiff.properties, products/
 * skiff/layout.md), which starts with the template's data/, so a file uploaded through one side
 * downloads through the other. Each side listens on a fixed free port (`http.port`), the address a
 * balancer's `server` line names. Both are started; `dispose` in `afterAll`.
 */
export async function createSkiffPair(o: SkiffPairOptions): Promise<SkiffPair> {
  const skiff = await loadSkiff();
  const root = o.root ?? (await scratchRoot(o.prefix));
  const sides: Partial<Record<Side, SkiffSide>> = {};
  const dispose = async () => {
    for (const s of Object.values(sides)) await s.stop().catch(() => {});
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    let template = o.template;
    if (!template) {
      const sample = await skiff.ensureSampleInstallation({
        dir: join(root, 'sample'),
        version: o.version ?? '5.4 GA',
      });
      await skiff.stopInstallation(sample.install);
      template = sample.install;
    }
    const { addAccount } = (await import(join(repoRoot, 'products/skiff/src/index.ts'))) as {
      addAccount(file: string, name: string, password: string): Promise<void>;
    };
    const account = { name: 'pair-client', password: randomBytes(12).toString('hex') };
    const shared = join(root, 'shared-data');
    cpSync(join(template, 'data'), shared, { recursive: true });
    for (const side of ['a', 'b'] as const) {
      const install = join(root, side, 'install');
      mkdirSync(join(root, side), { recursive: true });
      const r = spawnSync('cp', ['-a', template, install]);
      if (r.status !== 0) throw new Error(`cp -a ${template} failed: ${r.stderr}`);
      // One accounts file for both sides, as an operator keeps them in step.
      const accounts = join(install, 'conf/accounts.json');
      if (side === 'a') await addAccount(accounts, account.name, account.password);
      else copyFileSync(join(root, 'a/install/conf/accounts.json'), accounts);
      // The installation's own data/ stays, empty: the side serves the shared folder.
      for (const e of readdirSync(join(install, 'data')))
        rmSync(join(install, 'data', e), { recursive: true, force: true });
      const port = await freePort();
      const props = join(install, 'conf/skiff.properties');
      setProperty(props, 'http.port', String(port));
      setProperty(props, 'data.dir', shared);
      const s: SkiffSide = {
        side,
        install,
        port,
        address: `127.0.0.1:${port}`,
        start: async () => {
          await skiff.startInstallation(install);
        },
        stop: async () => {
          await skiff.stopInstallation(install);
        },
      };
      await s.start();
      sides[side] = s;
    }
    return {
      root,
      shared,
      sides: sides as Record<Side, SkiffSide>,
      account,
      skiff,
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
