import type { Verdict } from '../plan/index.ts';

/** The verdict in words, the same in every rendering. */
export const verdictText: Record<Verdict, string> = {
  recommended: 'upgrade recommended',
  'possible-with-actions': 'upgrade possible, with actions',
  'not-recommended': 'not recommended: facts are missing',
  blocked: 'upgrade blocked',
  'up-to-date': 'already up to date',
};
