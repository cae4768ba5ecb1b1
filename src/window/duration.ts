import { UpliftError } from '../errors/index.ts';

/** The longest window: the longest search (`--weeks 52`), so a longer one could never fit. */
const maxSeconds = 364 * 86_400;

/**
 * A `--duration`: `90m`, `1h30m`, `5400s`, `2h`, `1d`, or whole seconds (`5400`), at most 364
 * days. Anything else is UPLIFT_USAGE with the accepted forms.
 */
export function parseDuration(text: string, option = '--duration'): number {
  const t = text.trim().toLowerCase();
  const bad = () =>
    new UpliftError('UPLIFT_USAGE', `${option} "${text}" is not a duration`, {
      hint: `Write it as 90m, 1h30m, 5400s or 2h (d, h, m, s units), longer than 0 and at most 364d.`,
    });
  if (/^\d+$/.test(t)) return positive(Number(t), bad);
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === '') throw bad();
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  return positive(d * 86_400 + h * 3600 + min * 60 + s, bad);
}

function positive(seconds: number, bad: () => UpliftError): number {
  if (!(seconds > 0) || seconds > maxSeconds) throw bad();
  return seconds;
}
