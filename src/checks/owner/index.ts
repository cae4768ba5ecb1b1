import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, listText, pass, skip, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'owner';

async function run(ctx: CheckContext): Promise<CheckResult> {
  const me = ctx.host.uid;
  if (me === undefined) return skip('this platform has no Unix user ids');
  const owner = ctx.facts.owner;
  if (owner?.uid === undefined) {
    return warn(
      'the owner of the installation is unknown',
      `run uplift as the user that owns ${ctx.install}`,
    );
  }
  const ownerName = owner.user ?? `uid ${owner.uid}`;
  const meName = (await ctx.host.userName(me)) ?? `uid ${me}`;
  const details = { ownerUid: owner.uid, owner: owner.user, uid: me, user: meName };
  if (owner.uid !== me) {
    const asOwner = `run uplift as ${ownerName} (e.g. sudo -u ${owner.user ?? `'#${owner.uid}'`} uplift …)`;
    if (me === 0) {
      // The reference: "upgrading a non-root installation as root reports success but leaves
      // wrong file permissions and a corrupt installation".
      return fail(
        `the installation belongs to ${ownerName}, but uplift runs as root: upgrading a non-root installation as root leaves files it cannot use and a corrupt installation`,
        asOwner,
        details,
      );
    }
    return fail(
      `the installation belongs to ${ownerName}, but uplift runs as ${meName}, who cannot upgrade it in place`,
      asOwner,
      details,
    );
  }
  // Top-level entries owned by someone else are the usual trace of an earlier upgrade run as root.
  const entries = await readdir(ctx.install).catch(() => [] as string[]);
  const foreign: string[] = [];
  for (const name of entries.sort()) {
    const s = await lstat(join(ctx.install, name)).catch(() => undefined);
    if (s !== undefined && s.uid !== owner.uid) foreign.push(name);
  }
  if (foreign.length > 0) {
    return warn(
      `uplift runs as the owner ${ownerName}, but ${listText(foreign)} ${foreign.length === 1 ? 'belongs' : 'belong'} to another user`,
      `give them back to ${ownerName}: chown -R ${owner.user ?? owner.uid} ${foreign.map((f) => join(ctx.install, f)).join(' ')}`,
      { ...details, foreign },
    );
  }
  return pass(`uplift runs as ${meName}, the owner of the installation`, details);
}

export const api: Check = { id, title: 'Run as the user that owns the installation', run };
