import { UpliftError } from '../errors/index.ts';
import type { PlanKey } from '../state/types.ts';
import type { Topology } from '../topology/types.ts';

export type GateField = 'path' | 'packDigests' | 'profileDigest';

export interface GateDifference {
  field: GateField;
  want: string | string[];
  got: string | string[];
}

export interface GateGap {
  /** The earlier environment. */
  env: string;
  /** The deployment of the environment being rolled out whose plan is not proven there. */
  deployment: string;
  profile: string;
  /**
   * `no-deployment`: the earlier environment has no deployment of this profile (the plan cannot
   * have been proven there); `not-passed`: none of its plans for this profile passed;
   * `different`: plans passed there, but not this one (the closest is compared field by field).
   */
  reason: 'no-deployment' | 'not-passed' | 'different';
  differences: GateDifference[];
}

export type GateVerdict =
  | { pass: true; env: string; earlier: string[] }
  | { pass: false; env: string; earlier: string[]; gaps: GateGap[] };

/**
 * The promotion gate: a rollout to an environment passes when, in every earlier environment (the
 * topology's order), the same plan (profile, profile digest, path, pack digests) completed and
 * passed validation. Strict: an earlier environment with no deployment of the profile refuses too,
 * since nothing proved the plan there; `--override-gate --reason` is the audited way past it.
 * A deployment with nothing to upgrade (an empty path) is not gated.
 */
export function gateFor(
  topology: Topology,
  envName: string,
  planKeysByDeployment: Map<string, PlanKey>,
  passedByEnv: Map<string, PlanKey[]>,
): GateVerdict {
  const index = topology.environments.findIndex((e) => e.name === envName);
  if (index === -1)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_ENV_UNKNOWN',
      `no environment "${envName}" in ${topology.file}`,
      {
        hint: `use one of: ${topology.environments.map((e) => e.name).join(', ')}`,
        location: { file: topology.file, path: 'environments' },
      },
    );
  const earlier = topology.environments.slice(0, index);
  const gaps: GateGap[] = [];
  const deployments = [...planKeysByDeployment.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  for (const e of earlier) {
    const passed = passedByEnv.get(e.name) ?? [];
    for (const [deployment, key] of deployments) {
      if (key.path.length === 0) continue;
      const base = { env: e.name, deployment, profile: key.profile };
      const sameProfile = passed.filter((p) => p.profile === key.profile);
      if (sameProfile.some((p) => differencesOf(key, p).length === 0)) continue;
      if (!e.deployments.some((d) => d.profile === key.profile)) {
        gaps.push({ ...base, reason: 'no-deployment', differences: [] });
      } else if (sameProfile.length === 0) {
        gaps.push({ ...base, reason: 'not-passed', differences: [] });
      } else {
        const closest = sameProfile
          .map((p) => differencesOf(key, p))
          .reduce((best, d) => (d.length < best.length ? d : best));
        gaps.push({ ...base, reason: 'different', differences: closest });
      }
    }
  }
  const names = earlier.map((e) => e.name);
  return gaps.length === 0
    ? { pass: true, env: envName, earlier: names }
    : { pass: false, env: envName, earlier: names, gaps };
}

function differencesOf(want: PlanKey, got: PlanKey): GateDifference[] {
  const out: GateDifference[] = [];
  if (want.profileDigest !== got.profileDigest)
    out.push({ field: 'profileDigest', want: want.profileDigest, got: got.profileDigest });
  if (!sameList(want.path, got.path)) out.push({ field: 'path', want: want.path, got: got.path });
  if (!sameList(want.packDigests, got.packDigests))
    out.push({ field: 'packDigests', want: want.packDigests, got: got.packDigests });
  return out;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The refusal as an operator reads it: one line per earlier environment and deployment. */
export function describeGate(v: GateVerdict): string {
  if (v.pass)
    return v.earlier.length === 0
      ? `${v.env} is the first environment: no gate`
      : `the same plans passed in ${v.earlier.join(', ')}`;
  return v.gaps
    .map((g) => {
      const what =
        g.reason === 'no-deployment'
          ? `has no deployment of profile ${g.profile}`
          : g.reason === 'not-passed'
            ? `has no passed plan of profile ${g.profile}`
            : `passed a different plan (${g.differences
                .map((d) => `${d.field}: ${show(d.got)} there, ${show(d.want)} here`)
                .join('; ')})`;
      return `${g.env} ${what} (for ${v.env}/${g.deployment})`;
    })
    .join('\n');
}

function show(v: string | string[]): string {
  return Array.isArray(v) ? `[${v.join(' → ')}]` : v;
}

/** Throws the refusal (exit 3) unless the verdict passed. */
export function assertGate(v: GateVerdict): void {
  if (v.pass) return;
  throw new UpliftError('UPLIFT_ROLLOUT_GATE_REFUSED', `promotion gate: ${describeGate(v)}`, {
    hint: `roll the same plan out to ${[...new Set(v.gaps.map((g) => g.env))].join(', ')} first, or pass --override-gate --reason "…" (audited)`,
  });
}
