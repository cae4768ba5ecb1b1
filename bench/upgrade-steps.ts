import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deltaPackArgs } from '../test/util/vendor-side.ts';

// What the apply and downtime benches both do around a real upgrade: run a command, skiff's own
// bin/ scripts, the profile's stability window, the pack the plan names, built.

/** Runs `cmd` to completion; throws with its standard error unless it exits 0. */
export function sh(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

/** Runs `cmd` to completion without blocking the event loop (a poller keeps polling); as sh(). */
export function shAsync(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

/** Pins skiff's HTTP port in the customer's conf/skiff.properties of `install`, as a customer whose clients know the port would. */
export function pinSkiffPort(install: string, port: number): void {
  const props = join(install, 'conf/skiff.properties');
  const text = readFileSync(props, 'utf8');
  writeFileSync(
    props,
    /^http\.port=.*$/m.test(text)
      ? text.replace(/^http\.port=.*$/m, `http.port=${port}`)
      : `${text}http.port=${port}\n`,
  );
}

/** A skiff bin/ script of `install`, run to completion (its environment without test overrides). */
export function script(install: string, name: 'start_all' | 'stop_all'): Promise<void> {
  const { NODE_OPTIONS: _o, NODE_PATH: _p, SKIFF_HTTP_PORT: _h, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(join(install, 'bin', name), [], { cwd: install, env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`bin/${name} of ${install} exited ${code}`)),
    );
  });
}

/** profiles/<profile>'s `lifecycle.readiness.stableSeconds` (the stability window apply waits), read with a line pattern. */
export function profileStableSeconds(root: string, profile: string): number {
  const m = /stableSeconds:\s*([\d.]+)/.exec(
    readFileSync(join(root, 'profiles', profile, 'profile.yaml'), 'utf8'),
  );
  return Number(m?.[1] ?? 3);
}

/** The pack the plan (`uplift plan --json`'s output) names for its single hop `what`. */
export function planPack(stdout: string, what: string): { file: string; platform: string } {
  const j = JSON.parse(stdout) as {
    plan?: { steps: unknown[] };
    steps?: unknown[];
  };
  const steps = (j.plan ?? j).steps as {
    kind: string;
    pack: { file: string; platform: string } | null;
  }[];
  if (steps?.length !== 1 || !steps[0]?.pack)
    throw new Error(`the plan ${what} is not one pack hop: ${stdout.slice(0, 500)}`);
  return steps[0].pack;
}

/**
 * The vendor's part of a bench hop: `uplift plan` (`planArgs`, one pack hop `what`), a new signing
 * key `vendor` (`<vendor>.key`, `<vendor>.pub`), and the signed delta pack from release tree
 * `fromTree` to `toTree`, written to `packs` under the name the plan gives it: its path and platform.
 */
export async function buildPlannedPack(
  must: (args: string[]) => Promise<{ stdout: string }>,
  o: {
    planArgs: string[];
    what: string;
    vendor: string;
    fromTree: string;
    toTree: string;
    packs: string;
    profile?: string;
  },
): Promise<{ path: string; platform: string }> {
  const pack = planPack((await must(o.planArgs)).stdout, o.what);
  mkdirSync(o.packs, { recursive: true });
  await must(['keys', 'generate', '--out', o.vendor]);
  const out = join(o.packs, pack.file);
  await must(
    deltaPackArgs({
      fromTree: o.fromTree,
      toTree: o.toTree,
      platform: pack.platform,
      key: `${o.vendor}.key`,
      out,
      ...(o.profile ? { profile: o.profile } : {}),
    }),
  );
  return { path: out, platform: pack.platform };
}
