/**
 * Estimates that learn (docs/estimates.md): the catalog's figures calibrated by the measured step
 * timings of earlier runs of the same hop, scaled by the data-volume ratio. `learnEstimate` is
 * pure; `estimatePlan` gathers the samples from installations' histories.
 */
export {
  type AccuracyRow,
  accuracyOf,
  type EstimateRecord,
  estimatesFile,
  readEstimates,
  recordEstimate,
} from './accuracy.ts';
export {
  catalogSpread,
  type HopSample,
  type LearnInput,
  learnEstimate,
  type RollbackSample,
  singleSampleSpread,
} from './learn.ts';
export { historySamples, samplesOf } from './samples.ts';
export { type EstimateSources, estimateForRun, estimatePlan } from './shell.ts';
export {
  applyResultSamples,
  hopPrefix,
  publishAccuracy,
  publishSamples,
  storeSamples,
} from './store.ts';
export type { LearnedEstimate, Spread } from './types.ts';
export { hopDurations, phaseVolume, volumeFacts } from './volume.ts';
