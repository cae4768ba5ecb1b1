import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.ts';
import { descendants, signalAll } from './process-tree.ts';

/**
 * Real OpenSSH servers on 127.0.0.1 for the transport tests (dependencies.md §9): each with its own
 * host key and port, all accepting one client key, run as `sshd -D` children of the test process.
 * sshd needs root (to log in as the test's user, root, and for /run/sshd); without sshd or root the
 * tests skip, and under CI=true they fail.
 */
export const sshdPath = '/usr/sbin/sshd';

/** Why real sshd cannot run here, or undefined when it can. */
export function sshdMissing(): string | undefined {
  if (!existsSync(sshdPath)) return `${sshdPath} is not installed (apt-get install openssh-server)`;
  if (process.getuid?.() !== 0) return 'sshd tests run as root (as CI does)';
  return undefined;
}

export interface SshdInstance {
  port: number;
  /** `ssh-ed25519 AAAA…` (the host's .pub line without its comment). */
  hostKeyLine: string;
  /** The client's private key file, accepted by every instance of the set. */
  identityFile: string;
  /** A known_hosts file holding this instance as `[127.0.0.1]:port ssh-ed25519 …`. */
  knownHostsFile: string;
  /** The instance's own folder (config, keys, log). */
  dir: string;
  /** The sshd log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
  /** Stops it, cutting every connection, and starts it again on the same port. */
  restart(): Promise<void>;
}

export interface SshdOptions {
  /** Variables sshd sets for every session (`SetEnv`), e.g. a PATH with a fake tool first. */
  setEnv?: Record<string, string>;
}

export interface SshdSet {
  instances: SshdInstance[];
  /** Stops every instance and removes the folders. */
  stopAll(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file]);
}

function configText(dir: string, port: number, o: SshdOptions): string {
  const env = Object.entries(o.setEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, '..', 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'MaxStartups 100:30:200',
    'Subsystem sftp internal-sftp',
    ...(env.length > 0 ? [`SetEnv ${env.join(' ')}`] : []),
    '',
  ].join('\n');
}

/**
 * Starts sshd for `dir` on `port`; resolves once it listens, rejects (with its log) when it exits
 * first. A port taken meanwhile by another test reads as EADDRINUSE.
 */
async function launch(dir: string): Promise<ChildProcess> {
  const logFile = join(dir, 'sshd.log');
  writeFileSync(logFile, '');
  const child = spawn(sshdPath, ['-D', '-f', join(dir, 'sshd_config'), '-E', logFile], {
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let k = 0; k < 200; k++) {
    const log = readFileSync(logFile, 'utf8');
    if (/Server listening on/.test(log)) return child;
    if (exited || /Bind to port|Cannot bind/.test(log)) {
      child.kill('SIGKILL');
      const err = new Error(`sshd did not start: ${log.trim()}`) as Error & { inUse?: boolean };
      err.inUse = /Address already in use/.test(log);
      throw err;
    }
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not start within 5 s: ${readFileSync(logFile, 'utf8')}`);
}

/**
 * Stops an sshd and every process it started: each connection's sshd runs in a session of its
 * own (setsid), so stopping the listener alone would leave the connections up.
 */
function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  const below = descendants(child.pid as number);
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    signalAll([child.pid as number, ...below], 'SIGTERM');
  });
}

/** Starts `n` sshd instances sharing one client key; call `stopAll()` in afterAll. */
export async function startSshd(n: number, o: SshdOptions = {}): Promise<SshdSet> {
  const missing = sshdMissing();
  if (missing) throw new Error(missing);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const root = mkdtempSync(join(tmpdir(), 'uplift-sshd-'));
  const identityFile = join(root, 'client_ed25519');
  keygen(identityFile);
  writeFileSync(join(root, 'authorized_keys'), readFileSync(`${identityFile}.pub`), {
    mode: 0o600,
  });
  const instances: SshdInstance[] = [];
  const children = new Map<number, ChildProcess>();
  for (let k = 0; k < n; k++) {
    const dir = join(root, `node${k}`);
    mkdirSync(dir);
    keygen(join(dir, 'host_ed25519'));
    const hostKeyLine = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8')
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(' ');
    let port = 0;
    let child: ChildProcess | undefined;
    for (let attempt = 0; child === undefined; attempt++) {
      port = await freePort();
      writeFileSync(join(dir, 'sshd_config'), configText(dir, port, o));
      try {
        child = await launch(dir);
      } catch (err) {
        if (!(err as { inUse?: boolean }).inUse || attempt > 10) throw err;
      }
    }
    children.set(k, child);
    const knownHostsFile = join(dir, 'known_hosts');
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
    instances.push({
      port,
      hostKeyLine,
      identityFile,
      knownHostsFile,
      dir,
      log: () => readFileSync(join(dir, 'sshd.log'), 'utf8'),
      stop: async () => {
        await stopChild(children.get(k));
        children.delete(k);
      },
      restart: async () => {
        await stopChild(children.get(k));
        children.set(k, await launch(dir));
      },
    });
  }
  return {
    instances,
    async stopAll() {
      await Promise.all([...children.values()].map(stopChild));
      children.clear();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
