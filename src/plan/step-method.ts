import type { LoadedCatalog, StepMethod } from '../catalog/index.ts';
import type { PlanStep } from './schema.ts';

/**
 * Gives each step without a fitting pack the catalog's declared method for the platform, when
 * there is one. A declared method with all its inputs is as definite as a pack, so the step then
 * needs no action and does not lower the verdict (docs/catalog.md, "methods").
 */
export function attachMethods(c: LoadedCatalog, steps: PlanStep[], platform: string | null): void {
  for (const s of steps) {
    if (s.kind === 'manual' || s.pack || s.to === null) continue;
    const methods = c.releases.get(s.to)?.methods ?? [];
    const m =
      methods.find((x) => platform !== null && x.platform === platform) ??
      methods.find((x) => x.platform === undefined);
    if (!m) continue;
    s.method = { kind: kindOf(m), ...m };
    delete s.packProblem;
  }
}

/** The method in one line: `package apt demo-server=1.1.0-1`, `image demo:1.1@sha256:…`. */
export function describeMethod(m: NonNullable<PlanStep['method']>): string {
  if (m.command) return `command ${m.command.argv.join(' ')}`;
  if (m.package) return `package ${m.package.manager} ${m.package.name}=${m.package.version}`;
  if (m.installer)
    return `vendor installer ${m.installer.file}${m.installer.args?.length ? ` ${m.installer.args.join(' ')}` : ''} (sha256 ${m.installer.sha256.slice(0, 12)}…)`;
  return `image ${m.image?.ref}@${m.image?.digest}`;
}

function kindOf(m: StepMethod): NonNullable<PlanStep['method']>['kind'] {
  if (m.command) return 'command';
  if (m.package) return 'package';
  if (m.installer) return 'installer';
  return 'image';
}
