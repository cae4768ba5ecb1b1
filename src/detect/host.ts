import { readFile, readlink, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve, sep } from 'node:path';
import { isAlive } from '../util/index.ts';

/** The machine's platform in the catalogs' spelling: `linux-x86-64`, `linux-arm64`, `aix-power-64`. */
export function hostPlatform(overrides: Readonly<Record<string, string>> = {}): {
  os: string;
  arch: string;
  id: string;
} {
  const osIds: Record<string, string> = { win32: 'windows', darwin: 'macos', sunos: 'solaris' };
  const archIds: Record<string, string> = { x64: 'x86-64', ppc64: 'power-64', ia32: 'x86' };
  const os = osIds[process.platform] ?? process.platform;
  const arch = archIds[process.arch] ?? process.arch;
  // Vendors abbreviate Windows in pack names (win-x86-64); the other systems keep their name.
  const id =
    overrides[`${process.platform}-${process.arch}`] ?? `${os === 'windows' ? 'win' : os}-${arch}`;
  return { os, arch, id };
}

export interface Owner {
  user?: string;
  uid: number;
  gid: number;
  group?: string;
  root: boolean;
}

/** Who owns the installation directory, with names from the local user and group databases. */
export async function ownerOf(dir: string): Promise<Owner> {
  const st = await stat(dir);
  const [users, groups] = await Promise.all([
    readIdNames('/etc/passwd'),
    readIdNames('/etc/group'),
  ]);
  const user = users.get(st.uid);
  const group = groups.get(st.gid);
  return {
    ...(user === undefined ? {} : { user }),
    uid: st.uid,
    gid: st.gid,
    ...(group === undefined ? {} : { group }),
    root: st.uid === 0,
  };
}

/** The user uplift runs as; an installation run by another user cannot be upgraded safely. */
export function runningAs(): { uid: number; user?: string } {
  const uid = process.getuid?.() ?? -1;
  try {
    return { uid, user: userInfo().username };
  } catch {
    // A uid without a passwd entry (containers) has no name; the uid still tells.
    return { uid };
  }
}

/** `name:x:id:…` lines of /etc/passwd or /etc/group; empty where there are none (Windows). */
async function readIdNames(file: string): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

/** What a pid in a pid file stands for now. */
export type PidState = 'running' | 'not-running' | 'other-program';

/**
 * Whether a pid is a live process of the installation. A pid file outlives a crash, and the pid
 * is then reused by some other program; so where /proc shows the process, it counts only when
 * its command line or working directory is inside the installation. Without /proc (AIX, macOS),
 * a live pid is all there is to go on. `roots` are the installation's path as given and as resolved
 * through symlinks.
 */
export async function pidState(pid: number, roots: readonly string[]): Promise<PidState> {
  if (!isAlive(pid)) return 'not-running';
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline === undefined) return 'running';
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  const inside = (p: string) => roots.some((r) => p === r || p.startsWith(r + sep));
  const args = cmdline.split('\0').filter((a) => a.startsWith('/'));
  const ours = args.some((a) => inside(resolve(a))) || (cwd !== undefined && inside(cwd));
  return ours ? 'running' : 'other-program';
}
