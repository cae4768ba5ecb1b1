import { shellWord } from '../../errors/index.ts';
import type { Plan } from '../../plan/index.ts';
import type { ReportExtras } from '../../report/index.ts';
import { formatDuration } from '../../util/index.ts';
import type { WindowProposal } from '../../window/index.ts';
import { readSavedJson } from './saved-json.ts';

const slotsPerWeek = 672;

/**
 * The windows and traffic profile of `uplift window --json` saved in `file`, for the report's
 * window section and heat map. The windows must be at least as long as the plan's window to book,
 * or the board would read windows too short for this upgrade. Bad input is
 * UPLIFT_WINDOW_FILE_INVALID naming the field, before anything is written.
 */
export async function readWindowResult(
  file: string,
  plan: Plan,
): Promise<Pick<ReportExtras, 'traffic' | 'windows'>> {
  const again = `Save them again for this plan: uplift window --install DIR --to ${shellWord(plan.to)} --json > ${shellWord(file)}`;
  const { doc, bad } = await readSavedJson(
    file,
    'UPLIFT_WINDOW_FILE_INVALID',
    'uplift window --json',
    again,
  );
  const r = (doc ?? {}) as {
    windows?: unknown;
    profile?: { slots?: unknown; weeksCovered?: unknown };
    search?: { durationSeconds?: unknown };
  };
  if (!Array.isArray(r.windows))
    throw bad('windows', 'expected the list of windows uplift window --json prints');
  const windows = r.windows.map((w: unknown, k): WindowProposal => {
    const x = (w ?? {}) as Record<string, unknown>;
    for (const key of [
      'start',
      'end',
      'rank',
      'expectedTransfers',
      'expectedBytes',
      'expectedAccounts',
    ])
      if (typeof x[key] !== 'number' || !Number.isFinite(x[key]))
        throw bad(`windows[${k}].${key}`, `expected a number, got ${JSON.stringify(x[key])}`);
    if (typeof x.zone !== 'string') throw bad(`windows[${k}].zone`, 'expected an IANA zone');
    if (!Array.isArray(x.reasons) || !x.reasons.every((s) => typeof s === 'string'))
      throw bad(`windows[${k}].reasons`, 'expected a list of sentences');
    return x as unknown as WindowProposal;
  });
  const seconds = r.search?.durationSeconds;
  if (typeof seconds !== 'number' || seconds < plan.estimate.windowSeconds)
    throw bad(
      'search.durationSeconds',
      `the windows are ${typeof seconds === 'number' ? formatDuration(seconds) : 'of no stated length'}, the plan needs ${formatDuration(plan.estimate.windowSeconds)} (downtime + validation + rollback)`,
    );
  const p = r.profile;
  if (
    !p ||
    !Array.isArray(p.slots) ||
    p.slots.length !== slotsPerWeek ||
    !Array.isArray(p.weeksCovered) ||
    p.weeksCovered.length !== slotsPerWeek
  )
    throw bad('profile', `expected the traffic profile: ${slotsPerWeek} slots and their weeks`);
  return { windows, traffic: p as NonNullable<ReportExtras['traffic']> };
}
