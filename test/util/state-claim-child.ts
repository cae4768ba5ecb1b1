/**
 * A controller in a process of its own, for the claim tests (src/state/state.test.ts): opens the
 * state store (UPLIFT_DATABASE_URL, else the file in argv[3]), prints `ready`, claims argv[2] when
 * a line `go` arrives on stdin, prints `held` or `refused`, and holds until stdin closes.
 */
import { createInterface } from 'node:readline';
import { openStateStore } from '../../src/state/index.ts';

const [key, file] = process.argv.slice(2);
const store = await openStateStore({ file });
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
let claim: Awaited<ReturnType<typeof store.claim>>;
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  claim = await store.claim(key as string, `child-${process.pid}`);
  process.stdout.write(claim ? 'held\n' : 'refused\n');
}
await claim?.release();
await store.close();
