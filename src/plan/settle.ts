import type { LoadedCatalog } from '../catalog/index.ts';
import type { PlanStep } from './schema.ts';

/**
 * Marks each step that reaches a release with a `settle` and is followed by another step: apply
 * waits there until the profile's settle check passes. After the last step there is no next hop
 * to hold back, so the target never carries one.
 */
export function markSettles(c: LoadedCatalog, steps: PlanStep[]): void {
  steps.forEach((s, i) => {
    const settle = s.to === null ? undefined : c.releases.get(s.to)?.settle;
    if (!settle || i === steps.length - 1) return;
    s.settle = {
      check: settle.check,
      timeoutSeconds: Math.round(settle.timeoutMinutes * 60),
      intervalSeconds: settle.intervalSeconds,
      ...(settle.reason !== undefined ? { reason: settle.reason } : {}),
    };
  });
}
