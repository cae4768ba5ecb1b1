export { allowedForm, allowedIntervals, parseAllowed } from './allowed.ts';
export { blackoutsFromIcs, type IcsOptions } from './calendar.ts';
export { parseDuration } from './duration.ts';
export { findWindows, formatSpan } from './find-windows.ts';
export {
  intersectIntervals,
  mergeIntervals,
  subtractIntervals,
  totalLength,
} from './intervals.ts';
export type {
  AllowedInterval,
  AllowedRule,
  BlackoutInterval,
  Interval,
  WindowConstraints,
  WindowFunnel,
  WindowProposal,
  WindowRequest,
  WindowSearch,
} from './types.ts';
