import { basename, dirname, join } from 'node:path';

/**
 * Where apply keeps its state: beside the installation, never inside it (the installation
 * directory itself is swapped). One folder per installation, `<parent>/.<name>.uplift/`.
 */
export interface StatePaths {
  install: string;
  dir: string;
  lock: string;
  journal: string;
  history: string;
  /** Finished runs' journals, kept for `uplift status` and audits. */
  runs: string;
  backups: string;
  conflicts: string;
  /** Pristine vendor trees of installed versions: the base of the next three-way merge. */
  vendor: string;
}

export function statePaths(install: string): StatePaths {
  const dir = join(dirname(install), `.${basename(install)}.uplift`);
  return {
    install,
    dir,
    lock: join(dir, 'lock'),
    journal: join(dir, 'journal'),
    history: join(dir, 'history.jsonl'),
    runs: join(dir, 'runs'),
    backups: join(dir, 'backups'),
    conflicts: join(dir, 'conflicts'),
    vendor: join(dir, 'vendor'),
  };
}

/** The folders of one hop of one run, all in the state folder (same filesystem as the installation). */
export function hopPaths(p: StatePaths, runId: string, hop: number) {
  const id = `${runId}-${hop}`;
  return {
    stage: join(p.dir, `stage-${id}`),
    /** The pack's verified payload. */
    pack: join(p.dir, `stage-${id}`, 'pack'),
    /** The complete new installation, renamed into place at the switch. */
    tree: join(p.dir, `stage-${id}`, 'tree'),
    old: join(p.dir, `gen-${id}-old`),
    failed: join(p.dir, `gen-${id}-failed`),
    backup: join(p.backups, `${id}.tar.gz`),
  };
}

/** Version string as a folder name. */
export function versionSlug(version: string): string {
  return version.replace(/[^A-Za-z0-9._-]/g, '-');
}
