import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { Profile } from '../profile/index.ts';
import { compileGlob } from '../util/index.ts';
import type { TrafficFormat, TrafficSource } from './read.ts';
import type { TrafficDeclaration } from './schema.ts';

const isGlob = (s: string) => /[*?[\]{}]/.test(s);

/**
 * Rotated logs oldest first: `xferlog.10.gz`, …, `xferlog.2.gz`, `xferlog.1`, `xferlog`. A name
 * with a rotation number sorts by it, higher (older) first; the live file (no number) last;
 * dated names (`xferlog-20261101`) by name, which is by date.
 */
export function rotationOrder(names: string[]): string[] {
  const rotation = (n: string) => {
    const m = /\.(\d+)(?:\.gz)?$/.exec(n);
    return m ? Number(m[1]) : -1;
  };
  const base = (n: string) => n.replace(/\.(\d+)(?:\.gz)?$/, '');
  return [...names].sort((a, b) => {
    const ba = base(a);
    const bb = base(b);
    if (ba !== bb) {
      // `x-20261101` before `x` (its live file): a dated name starts with the live name.
      if (ba.startsWith(bb)) return -1;
      if (bb.startsWith(ba)) return 1;
      return ba < bb ? -1 : 1;
    }
    return rotation(b) - rotation(a);
  });
}

/** The format a declaration describes, for the reader. */
export function formatOf(t: TrafficDeclaration): TrafficFormat {
  if (t.format === 'xferlog' || t.fields === undefined) return { kind: 'xferlog' };
  return {
    kind: t.format,
    fields: t.fields,
    time: t.time,
    values: t.values,
    delimiter: t.delimiter,
  };
}

/**
 * The transfer logs of an installation, as its profile's `traffic:` section declares them, in
 * reading order (each pattern in turn; rotated files oldest first). Throws
 * UPLIFT_TRAFFIC_NOT_DECLARED when the profile has no `traffic:` section and
 * UPLIFT_TRAFFIC_LOG_MISSING when no declared log exists.
 */
export async function trafficSourcesOf(
  profile: Pick<Profile, 'manifest' | 'dir'>,
  installDir: string,
): Promise<TrafficSource[]> {
  const t = profile.manifest.traffic;
  if (t === undefined)
    throw new UpliftError(
      'UPLIFT_TRAFFIC_NOT_DECLARED',
      `the profile ${profile.manifest.name} does not say where its transfer logs are`,
      {
        location: { file: join(profile.dir, 'profile.yaml'), path: 'traffic' },
        hint: 'give the logs with --log FILE, or add traffic: { logs: [...], format: xferlog } to the profile (docs/profiles.md, "Traffic")',
      },
    );
  const format = formatOf(t);
  const files: string[] = [];
  for (const pattern of t.logs) {
    const path = isAbsolute(pattern) ? pattern : join(installDir, pattern);
    if (!isGlob(basename(path))) {
      files.push(path);
      continue;
    }
    const glob = compileGlob(basename(path));
    const names = await readdir(dirname(path)).catch(() => [] as string[]);
    for (const name of rotationOrder(names.filter((n) => glob.matches(n))))
      files.push(join(dirname(path), name));
  }
  const present = [...new Set(files)].filter((f) => existsSync(f));
  if (present.length === 0)
    throw new UpliftError(
      'UPLIFT_TRAFFIC_LOG_MISSING',
      `no transfer log in ${installDir}: the profile ${profile.manifest.name} declares ${t.logs.join(', ')}`,
      {
        location: { file: installDir },
        hint: 'give the installation folder the logs are under, or the logs themselves with --log FILE',
      },
    );
  return present.map((file) => ({
    file,
    format,
    ...(t.zone === undefined ? {} : { zone: t.zone }),
  }));
}
