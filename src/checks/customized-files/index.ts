import { basename, extname } from 'node:path';
import { fail, listSome, pass, plural, thenCheckAgain, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'customized-files';

/** What uplift does with one customized file during the upgrade. */
type Action = 'merge' | 'replace' | 'keep' | 'restore';

const actionText: Record<Action, string> = {
  merge: 'your changes are carried forward by a three-way merge',
  replace: 'the new version overwrites it and your change is lost; the backup keeps a copy',
  keep: 'kept as it is (the vendor does not ship it)',
  restore: 'the new version puts it back if it ships it',
};

/** Formats uplift merges key by key or line by line (src/merge); anything else is replaced whole. */
const mergeable = new Set(['.properties', '.yaml', '.yml', '.json', '.xml', '.conf']);
const mergeableNames = new Set(['crontab', 'STStartScriptsConfig']);

function actionFor(path: string, change: 'changed' | 'added' | 'removed'): Action {
  if (change === 'added') return 'keep';
  if (change === 'removed') return 'restore';
  return mergeable.has(extname(path)) || mergeableNames.has(basename(path)) ? 'merge' : 'replace';
}

async function run(ctx: CheckContext): Promise<CheckResult> {
  const cf = ctx.facts.customizedFiles;
  if (cf === undefined) {
    return warn(
      `which files differ from the vendor release is unknown: no vendor manifest of ${ctx.facts.version ?? 'the installed version'} was found`,
      thenCheckAgain(
        `give the vendor manifest of ${ctx.facts.version ?? 'the installed version'} (the list of that release's files with their hashes) as --vendor-manifest`,
      ),
    );
  }
  // Older facts files list changed files only.
  const lists = Array.isArray(cf) ? { changed: cf, added: [], removed: [] } : cf;
  const files = (['changed', 'added', 'removed'] as const).flatMap((change) =>
    lists[change]
      // uplift's own state (the lock, journals) is never the customer's change.
      .filter((path) => !path.startsWith('.uplift/'))
      .map((path) => ({ path, change, action: actionFor(path, change) })),
  );
  if (files.length === 0) {
    return pass(`every file matches the vendor release of ${ctx.facts.version ?? 'this version'}`, {
      files,
    });
  }
  const count = (a: Action) => files.filter((f) => f.action === a).length;
  const summary = (['merge', 'replace', 'keep', 'restore'] as const)
    .filter((a) => count(a) > 0)
    .map(
      (a) =>
        `${count(a)} ${{ merge: 'merged', replace: 'replaced', keep: 'kept', restore: 'restored' }[a]}`,
    );
  const replaced = files.filter((f) => f.action === 'replace').map((f) => f.path);
  const message = `${plural(files.length, 'customized file')} (${summary.join(', ')}): ${listSome(files.map((f) => `${f.path} ${f.change}`))}`;
  const details = { files: files.map((f) => ({ ...f, what: actionText[f.action] })) };
  // A change the upgrade would overwrite is lost without a word unless someone acts first: the
  // guide's "modifications made to the scripts in /bin/start_* are not preserved on upgrade".
  if (replaced.length > 0) {
    return fail(
      message,
      `the upgrade overwrites your changes to ${listSome(replaced)}: move them into a configuration file uplift merges (then restore the vendor's file), or restore the vendor's file to accept losing them`,
      details,
    );
  }
  return warn(
    message,
    'nothing to do before the upgrade; review the merged files after it',
    details,
  );
}

export const api: Check = { id, title: 'Customized files the upgrade would overwrite', run };
