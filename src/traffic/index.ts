export { buildTrafficProfile, slotOf, weekStartOf, weeksCovered } from './fold.ts';
export {
  type ReadOptions,
  readTrafficProfile,
  readTransferLogs,
  type TrafficFormat,
  type TrafficSource,
  type TransferLogRead,
} from './read.ts';
export type { ScanOptions, Skipped } from './scan.ts';
export type { TrafficDeclaration, TrafficFields } from './schema.ts';
export { formatOf, rotationOrder, trafficSourcesOf } from './sources.ts';
export {
  SLOT_MINUTES,
  SLOTS_PER_WEEK,
  type TrafficProfile,
  type TrafficSlot,
  type TransferRecord,
} from './types.ts';
export { machineZone } from './zone.ts';
