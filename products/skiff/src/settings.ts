import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ReleaseInfo } from './release.ts';

/** Reads Java-style `.properties` text: `key=value` or `key: value`, `#` and `!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const at = line.search(/[=:]/);
    if (at < 0) props.set(line, '');
    else props.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return props;
}

export function readProperties(file: string): Map<string, string> {
  try {
    return parseProperties(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
}

/** A setting the server cannot start with; the message names the file and the key. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

export interface TlsSettings {
  cert: string;
  key: string;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  ciphers: string;
}

export interface OutboundSettings {
  proxy?: { host: string; port: number };
  /** Whether an outbound connection may go direct when the proxy is unreachable. */
  directWhenProxyDown: boolean;
}

export interface ServerSettings {
  host: string;
  port: number;
  /** Where uploaded files live: `<dataDir>/<account>/<path>`. */
  dataDir: string;
  /** Where an upload is written until it is complete, on the same filesystem as `dataDir`. */
  partialDir: string;
  tls?: TlsSettings;
  outbound: OutboundSettings;
}

const tlsVersions = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type TlsVersion = (typeof tlsVersions)[number];

function isTlsVersion(s: string): s is TlsVersion {
  return (tlsVersions as readonly string[]).includes(s);
}

function parsePort(value: string, where: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new SettingsError(`${where}: expected a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/**
 * The folder uploaded files live in: `data.dir` of conf/skiff.properties (absolute, or relative to
 * the installation), else `data/` in the installation. Two servers of a cluster share one folder
 * this way (storage both mount); `partial` is where an upload waits until complete, renamed into
 * place from there, so it must be on the same filesystem: `var/tmp` for `data/`, else
 * `<data.dir>/.partial` (no account is named `.partial`: names start with a letter or digit).
 */
export function dataFolders(
  home: string,
  props: Map<string, string> = readProperties(join(home, 'conf/skiff.properties')),
): { dataDir: string; partialDir: string } {
  const dir = props.get('data.dir');
  if (!dir) return { dataDir: join(home, 'data'), partialDir: join(home, 'var/tmp') };
  const dataDir = isAbsolute(dir) ? dir : join(home, dir);
  return { dataDir, partialDir: join(dataDir, '.partial') };
}

/**
 * The settings the server runs with, from conf/skiff.properties and conf/security.properties.
 * `SKIFF_HTTP_PORT` (set by bin/start_all from HTTP_PORT in conf/start-script.conf) wins over
 * `http.port`.
 */
export function loadServerSettings(
  home: string,
  release: ReleaseInfo,
  env: NodeJS.ProcessEnv = process.env,
): ServerSettings {
  const props = readProperties(join(home, 'conf/skiff.properties'));
  const security = readProperties(join(home, 'conf/security.properties'));
  const { features } = release;

  const dbType = props.get('db.type') || 'sqlite';
  if (dbType !== 'sqlite') {
    throw new SettingsError(
      `conf/skiff.properties: db.type=${dbType} is not supported by this build; use sqlite`,
    );
  }

  const port = env.SKIFF_HTTP_PORT
    ? parsePort(env.SKIFF_HTTP_PORT, 'HTTP_PORT in conf/start-script.conf')
    : parsePort(props.get('http.port') || '0', 'conf/skiff.properties: http.port');

  let tls: TlsSettings | undefined;
  if (props.get('tls.enabled') === 'true') {
    const protocols = (security.get('tls.protocols') || features.tls.protocols.join(','))
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    for (const p of protocols) {
      if (!isTlsVersion(p) || features.tls.unsupportedProtocols.includes(p)) {
        throw new SettingsError(
          `conf/security.properties: tls.protocols: skiff ${release.version} does not support "${p}"; use ${tlsVersions.filter((v) => !features.tls.unsupportedProtocols.includes(v)).join(', ')}`,
        );
      }
    }
    const ordered = tlsVersions.filter((v) => protocols.includes(v));
    const minVersion = ordered[0];
    const maxVersion = ordered.at(-1);
    if (!minVersion || !maxVersion) {
      throw new SettingsError('conf/security.properties: tls.protocols is empty');
    }
    tls = {
      cert: join(home, props.get('tls.cert') || 'conf/tls/server.crt'),
      key: join(home, props.get('tls.key') || 'conf/tls/server.key'),
      minVersion,
      maxVersion,
      ciphers: security.get('tls.ciphers') || features.tls.ciphers,
    };
  }

  const proxyHost = props.get('proxy.host');
  const proxy = proxyHost
    ? {
        host: proxyHost,
        port: parsePort(props.get('proxy.port') || '3128', 'conf/skiff.properties: proxy.port'),
      }
    : undefined;
  const directWhenProxyDown =
    features.proxyDirectFallback === 'always' ||
    props.get('Direct.Connection.When.Proxy.Down') === 'true';

  return {
    host: props.get('http.host') || '127.0.0.1',
    port,
    ...dataFolders(home, props),
    tls,
    outbound: { proxy, directWhenProxyDown },
  };
}
