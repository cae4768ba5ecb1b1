import type { Verdict } from '../../plan/index.ts';

/** The verdict as a coloured badge; its words are the same in every view (verdict.ts). */
export function VerdictBadge({ verdict, text }: { verdict: Verdict; text: string }) {
  return (
    <span className={`verdict verdict-${verdict}`} data-verdict={verdict}>
      {`Verdict: ${text}`}
    </span>
  );
}
