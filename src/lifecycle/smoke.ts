import { UpliftError } from '../errors/index.ts';
import { assertKnownVars } from './readiness.ts';
import { checkName, runCheck } from './run-check.ts';
import type { LifecycleTarget } from './types.ts';
import { withCachedFacts } from './vars.ts';

/**
 * Runs each smoke test once, in order, all within smoke.timeoutSeconds. The first that fails ends
 * the run with UPLIFT_APPLY_SMOKE_FAILED naming it and what it got.
 */
export async function runSmokeTests(target: LifecycleTarget): Promise<{ checked: string[] }> {
  const t = withCachedFacts(target);
  const { tests, timeoutSeconds } = t.lifecycle.smoke;
  assertKnownVars(tests);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const checked: string[] = [];
  for (const c of tests) {
    const name = checkName(c);
    const left = deadline - Date.now();
    const r =
      left > 0
        ? await runCheck(c, t, left)
        : { ok: false, detail: `not run: the smoke tests took their whole ${timeoutSeconds} s` };
    if (!r.ok)
      throw new UpliftError(
        'UPLIFT_APPLY_SMOKE_FAILED',
        `smoke test "${name}" failed: ${r.detail}`,
        {
          hint: "Read the service's log; the test exercises the product the way a client does.",
          unchanged: false,
        },
      );
    t.onEvent?.(`smoke test ${name}: ${r.detail}`);
    checked.push(name);
  }
  return { checked };
}
