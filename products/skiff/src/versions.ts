import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ReleaseFeatures } from './release.ts';

/** A skiff release as the catalog lists it. */
export interface SkiffRelease {
  version: string;
  date: string;
}

const catalogFile = join(import.meta.dirname, '../../../profiles/skiff/catalog.yaml');

/** Every release in profiles/skiff/catalog.yaml, in catalog order. */
export function listReleases(): SkiffRelease[] {
  const catalog = parse(readFileSync(catalogFile, 'utf8')) as {
    releases: { version: string; date: string }[];
  };
  return catalog.releases.map((r) => ({ version: r.version, date: String(r.date) }));
}

/** An error whose `code` a caller can match; the message names the value and what to do. */
export class SkiffError extends Error {
  override name = 'SkiffError';
  readonly code:
    | 'SKIFF_UNKNOWN_VERSION'
    | 'SKIFF_NOT_INSTALLED'
    | 'SKIFF_START_FAILED'
    | 'SKIFF_STOP_FAILED'
    | 'SKIFF_NOT_EMPTY';
  constructor(code: SkiffError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export function findRelease(version: string): SkiffRelease {
  const releases = listReleases();
  const found = releases.find((r) => r.version === version);
  if (!found) {
    throw new SkiffError(
      'SKIFF_UNKNOWN_VERSION',
      `skiff has no release "${version}"; use one of: ${releases.map((r) => r.version).join(', ')}`,
    );
  }
  return found;
}

/** `5.3.0 Patch 1` → `5.3.0-Patch-1`, the folder name of a release tree. */
export function releaseSlug(version: string): string {
  return version.replace(/ /g, '-');
}

/** Orders `5.3.0 GA` < `5.3.0 Patch 2` < `5.3.3 GA` < `5.4 GA`; SP and Patch levels count alike. */
function versionKey(version: string): number[] {
  const m = /^(\d+(?:\.\d+)*) (?:GA|SP(\d+)|Patch (\d+))$/.exec(version);
  if (!m?.[1]) throw new SkiffError('SKIFF_UNKNOWN_VERSION', `"${version}" is not a skiff version`);
  const release = m[1].split('.').map(Number);
  while (release.length < 3) release.push(0);
  return [...release, Number(m[2] ?? m[3] ?? 0)];
}

export function isAtLeast(version: string, than: string): boolean {
  const a = versionKey(version);
  const b = versionKey(than);
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const ciphersBefore55 = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA',
  'DES-CBC3-SHA',
  'RC4-SHA',
].join(':');

// SKF-592/SKF-607: no 3DES, RC4 or CBC; TLS 1.3 suites and CHACHA20 first.
const ciphersFrom55 = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/** How `version` behaves: the single place where skiff's version differences are decided. */
export function featuresFor(version: string): ReleaseFeatures {
  const from55 = isAtLeast(version, '5.5 GA');
  return {
    trackingTable: isAtLeast(version, '5.3.3 GA') ? 'file_tracking' : 'transfers',
    jobsFrom: from55 ? 'scheduler.yaml' : 'crontab',
    proxyDirectFallback: from55 ? 'when-enabled' : 'always',
    schedulerProcess: isAtLeast(version, '5.4 GA'),
    startScriptConf: isAtLeast(version, '5.3.0 GA'),
    uploadChecksum: isAtLeast(version, '5.3.6 GA'),
    healthz: from55,
    folderQuotas: version === '5.2.1 SP9',
    tls: from55
      ? {
          protocols: ['TLSv1.2', 'TLSv1.3'],
          ciphers: ciphersFrom55,
          unsupportedProtocols: ['TLSv1', 'TLSv1.1'],
        }
      : {
          protocols: ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
          ciphers: ciphersBefore55,
          unsupportedProtocols: [],
        },
  };
}
