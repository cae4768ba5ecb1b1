import { homedir } from 'node:os';
import { posix, resolve } from 'node:path';
import type { NodeAddress } from './types.ts';

/** A problem with one value: what is wrong, and what to write instead. */
export interface ValueProblem {
  message: string;
  hint: string;
}

/**
 * A path on the controller named in the topology (identity, known_hosts, packs, trust): absolute as
 * written, `~/…` from the home folder, anything else from the topology file's folder.
 */
export function controllerPath(base: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(base, p);
}

/** `profile:` is a folder when it is a path (`./x`, `../x`, `/x`), else a name on the search path. */
export function profileRef(base: string, p: string): string {
  return isPathLike(p) ? resolve(base, p) : p;
}

function isPathLike(p: string): boolean {
  return p.startsWith('/') || p.startsWith('./') || p.startsWith('../') || p === '.' || p === '..';
}

/**
 * A node's `at`: a local folder (absolute, or `./…`/`../…` from the topology file's folder) or
 * `ssh://user@host[:port]/path` (port 22 by default; the path is the installation folder).
 */
export function parseAt(at: string, base: string): NodeAddress | ValueProblem {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(at)) return parseSsh(at);
  if (isPathLike(at)) return { kind: 'local', path: resolve(base, at) };
  return {
    message: `expected ssh://user@host:port/path or a local folder (absolute or ./relative), got "${at}"`,
    hint: `write ssh://admin@${at}/opt/product for a remote node, or ./${at} for a folder next to the topology file`,
  };
}

function parseSsh(at: string): NodeAddress | ValueProblem {
  const scheme = at.slice(0, at.indexOf(':')).toLowerCase();
  if (scheme !== 'ssh')
    return {
      message: `the scheme "${scheme}://" is not supported`,
      hint: 'reach a remote node as ssh://user@host:port/path, or give a local folder',
    };
  let url: URL;
  try {
    url = new URL(at);
  } catch {
    return {
      message: 'not a valid ssh:// address',
      hint: 'write ssh://user@host:port/path, e.g. ssh://admin@node1:22/opt/product',
    };
  }
  if (url.password !== '')
    return {
      message: 'the address carries a password',
      hint: 'remove the password from the address; log in with identity: a key file, or the SSH agent',
    };
  const shown = `ssh://${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  if (url.hostname === '')
    return {
      message: `${shown} names no host`,
      hint: `write the host after //: ssh://${url.username || 'admin'}@node1${url.pathname}`,
    };
  if (url.username === '')
    return {
      message: `${shown} names no user`,
      hint: `write the user who logs in: ssh://admin@${url.host}${url.pathname}`,
    };
  if (url.port !== '' && Number(url.port) < 1)
    return {
      message: `${shown} names port ${url.port}`,
      hint: 'give a port from 1 to 65535, or leave it out for 22',
    };
  if (url.search !== '' || url.hash !== '')
    return {
      message: `${shown} has a query or fragment`,
      hint: 'remove what follows ? or #; the address is ssh://user@host:port/path',
    };
  let path: string;
  let user: string;
  try {
    path = posix.normalize(decodeURIComponent(url.pathname || '/')).replace(/(.)\/+$/, '$1');
    user = decodeURIComponent(url.username);
  } catch {
    return {
      message: `${shown} has a broken %-escape`,
      hint: 'write % as %25 in the address, or leave the characters unescaped',
    };
  }
  if (/[\s\p{Cc}]/u.test(user))
    return {
      message: `${shown} has a space or a control character in its user name`,
      hint: 'write the login name as the server knows it, e.g. ssh://admin@host/opt/product',
    };
  if (path === '/')
    return {
      message: `${shown} names no installation folder`,
      hint: `add the installation folder: ssh://${url.username}@${url.host}/opt/product`,
    };
  return {
    kind: 'ssh',
    user,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 22 : Number(url.port),
    path,
  };
}

/** The key types OpenSSH servers present as host keys. */
const hostKeyTypes = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/**
 * A pinned host key as a `.pub` file or `ssh-keyscan` writes it (`ssh-ed25519 AAAA… [comment]`),
 * returned without its comment. The key blob must decode and name the same type as its prefix, so a
 * truncated or mispasted key is refused here and not as "host key mismatch" at connect time.
 */
export function parseHostKey(text: string): { key: string } | ValueProblem {
  const hint =
    'paste the server\'s public host key as "ssh-ed25519 AAAA…" (ssh-keyscan -t ed25519 HOST prints it), or use knownHosts: FILE';
  const parts = text.trim().split(/\s+/);
  const [type, blob] = parts;
  if (type === undefined || blob === undefined || !hostKeyTypes.has(type)) {
    const known = parts.findIndex((p) => hostKeyTypes.has(p));
    return {
      message:
        known > 0
          ? 'looks like a known_hosts line: it starts with host names'
          : `not a public host key: expected one of ${[...hostKeyTypes].slice(0, 5).join(', ')} and the key`,
      hint,
    };
  }
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(blob) ? Buffer.from(blob, 'base64') : Buffer.alloc(0);
  const len = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  const inner = len >= 0 && 4 + len <= bytes.length ? bytes.subarray(4, 4 + len).toString() : '';
  if (inner !== type)
    return {
      message: `the ${type} key is damaged (its data does not decode to a ${type} key)`,
      hint,
    };
  return { key: `${type} ${blob}` };
}

/**
 * The installation an address names, for "listed twice" checks: the same folder on the same host
 * and port is the same installation whoever logs in.
 */
export function installationKey(a: NodeAddress): string {
  return a.kind === 'local' ? `local:${a.path}` : `ssh:${a.host.toLowerCase()}:${a.port}:${a.path}`;
}

/** How an address is shown: never with anything secret (there is nothing secret in one). */
export function formatAddress(a: NodeAddress): string {
  if (a.kind === 'local') return a.path;
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `ssh://${a.user}@${host}${a.port === 22 ? '' : `:${a.port}`}${a.path}`;
}
