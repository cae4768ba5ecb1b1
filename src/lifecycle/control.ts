import { matchesAnyGlob } from '../util/index.ts';
import { findRunningProcesses } from './processes.ts';
import { startServices, stopServices } from './services.ts';
import type { LifecycleTarget, ServiceControlOptions } from './types.ts';

/**
 * The services of one installation as backup and restore drive them (the shape of src/backup's
 * ServiceControl): its live processes, stop, start, and which files are its pid files (left out
 * of an online backup).
 */
export function serviceControl(t: LifecycleTarget) {
  const pidFiles = t.lifecycle.services.flatMap((s) => (s.pidFile ? [s.pidFile] : []));
  return {
    running: async () =>
      (await findRunningProcesses(t)).map((r) => ({ pid: r.pid, label: r.pidFile ?? r.service })),
    stop: (o: ServiceControlOptions) => stopServices(t, o),
    start: (o: ServiceControlOptions) => startServices(t, o),
    isRuntimeFile: (path: string) => matchesAnyGlob(pidFiles, path),
  };
}
