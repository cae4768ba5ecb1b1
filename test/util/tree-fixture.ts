import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes `body` to `root/rel` (its folders made as needed) and gives it `mode`, also when it was there. */
export function put(root: string, rel: string, body: string, mode = 0o644): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), body);
  chmodSync(join(root, rel), mode);
}
