import { diff3Merge } from 'node-diff3';

/**
 * Carries edits made on a re-serialised document back onto the customer's own text.
 *
 * Serialisers (yaml's, xmldom's, JSON.stringify) normalise layout: quoting, indentation, inline
 * arrays. So the merge serialises the customer's document twice, before (`before`) and after
 * (`after`) applying the vendor's changes, and applies the line difference between the two to the
 * customer's text with diff3 (base `before`, one side the customer's text, the other `after`).
 * Lines the merge did not touch keep the customer's exact bytes. Where the customer's layout and
 * an edit touch the same or adjacent lines, that region comes from `after` (re-serialised, with
 * every comment the document holds); callers re-parse the result to prove it.
 */
export function rebaseLayout(original: string, before: string, after: string): string {
  if (before === after) return original;
  if (original === before) return after;
  const regions = diff3Merge(original.split('\n'), before.split('\n'), after.split('\n'), {
    excludeFalseConflicts: true,
  });
  const out: string[] = [];
  for (const r of regions) {
    if (r.ok) out.push(...r.ok);
    else if (r.conflict) out.push(...r.conflict.b);
  }
  return out.join('\n');
}
