import type { ServiceControl } from '../backup/index.ts';
import { detectFacts } from '../detect/index.ts';
import { UpliftError } from '../errors/index.ts';
import {
  findRunningProcesses,
  isRunning,
  killServices,
  type LifecycleTarget,
  type ProbeRound,
  probeOnce,
  type ReadyResult,
  type RunningProcess,
  runCommand,
  runSmokeTests,
  type ServiceControlOptions,
  serviceControl,
  startServices,
  stopServices,
  waitUntilReady,
} from '../lifecycle/index.ts';
import { loadProfile, type Profile } from '../profile/index.ts';

/**
 * The installation's services as apply drives them: everything comes from the profile's
 * `lifecycle` (src/lifecycle). Apply knows no product: a profile without a lifecycle cannot be
 * applied, because uplift would not know how to stop, start or probe it.
 */
export interface Services {
  readonly install: string;
  readonly profile: Profile;
  isRunning(): Promise<boolean>;
  stop(o: ServiceControlOptions): Promise<void>;
  /** SIGKILL whatever still runs: only for a failed new version being thrown away. */
  kill(): Promise<void>;
  start(o: ServiceControlOptions, version: string): Promise<number[]>;
  /** The readiness probes and their stability window, for the version expected to run. */
  waitUntilReady(version: string): Promise<ReadyResult>;
  smoke(version: string): Promise<{ checked: string[] }>;
  /** A post-switch step's command (or its undo). */
  run(
    command: NonNullable<Profile['manifest']['lifecycle']>['postSwitch'][number],
    version: string,
  ): Promise<{ code: number; output: string }>;
  /** The same services as backup and restore see them. */
  control(version?: string): ServiceControl;
  /** The live processes of the services (their pids). */
  processes(): Promise<RunningProcess[]>;
  /** One round of the readiness probes for the version expected to run: what a client gets now. */
  probeOnce(version: string | undefined, timeoutMs?: number): Promise<ProbeRound>;
}

/** The environment variable that marks every lifecycle command of a run with the run's id. */
export const runMark = 'UPLIFT_RUN_ID';

/**
 * `runId`: the run whose commands these are; each gets `UPLIFT_RUN_ID=<runId>` in its
 * environment, which is how resume finds what a killed run left running (src/apply/leftovers.ts).
 */
export function servicesOf(
  profile: Profile,
  install: string,
  onEvent?: (line: string) => void,
  runId?: string,
): Services {
  const lifecycle = profile.manifest.lifecycle;
  if (!lifecycle)
    throw new UpliftError(
      'UPLIFT_APPLY_NO_LIFECYCLE',
      `the profile ${profile.manifest.name} (${profile.dir}) does not say how to start, stop and probe its product`,
      {
        hint: 'Add a lifecycle section (services, readiness, smoke) to its profile.yaml: docs/profiles.md shows every field.',
        location: { file: `${profile.dir}/profile.yaml`, path: 'lifecycle' },
        unchanged: true,
      },
    );
  const target = (version?: string): LifecycleTarget => ({
    install,
    profileDir: profile.dir,
    lifecycle,
    ...(version ? { version } : {}),
    facts: async () => {
      const d = await detectFacts(profile, install);
      return d as unknown as Record<string, unknown>;
    },
    ...(onEvent ? { onEvent } : {}),
    ...(runId ? { env: { [runMark]: runId } } : {}),
  });
  const svc: Services = {
    install,
    profile,
    isRunning: () => isRunning(target()),
    stop: (o) => stopServices(target(), o),
    kill: () => killServices(target()),
    start: (o, version) => startServices(target(version), o),
    waitUntilReady: (version) => waitUntilReady(target(version)),
    smoke: (version) => runSmokeTests(target(version)),
    run: (command, version) => runCommand(command, target(version)),
    control: (version) => serviceControl(target(version)),
    processes: () => findRunningProcesses(target()),
    probeOnce: (version, timeoutMs) =>
      probeOnce(target(version), timeoutMs === undefined ? {} : { timeoutMs }),
  };
  return svc;
}

/** Where a run's journal says its profile was, and the profile's digest then. */
export interface ProfileRecord {
  dir: string;
  name: string;
}

/**
 * The services of a run that began earlier (resume, rollback): the profile is loaded from the
 * folder the run recorded, so they need no `--profile` and act exactly as the run would have.
 */
export async function servicesOfRecord(
  rec: ProfileRecord | undefined,
  install: string,
  fallback: Profile | undefined,
  onEvent?: (line: string) => void,
  runId?: string,
): Promise<Services> {
  if (fallback) return servicesOf(fallback, install, onEvent, runId);
  if (!rec)
    throw new UpliftError(
      'UPLIFT_APPLY_PROFILE_UNKNOWN',
      `the run on ${install} did not record its profile (it began before uplift recorded one)`,
      {
        hint: 'Pass --profile NAME|DIR: the profile the installation was upgraded with.',
        unchanged: true,
      },
    );
  return servicesOf(await loadProfile(rec.dir), install, onEvent, runId);
}
