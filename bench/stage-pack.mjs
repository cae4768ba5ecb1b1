// Verifies a pack and stages its files into a directory, as one process, for the extract bench
// (bench/packs.ts): `node bench/stage-pack.mjs PACK TRUST STAGE_DIR`. Plain JavaScript over the
// built dist/, so the timed process carries no TypeScript loader; prints a one-line JSON summary.
import { verifyPack } from '../dist/pack/index.js';
import { loadTrust } from '../dist/signing/index.js';

const [file, trustPath, stageInto] = process.argv.slice(2);
if (!file || !trustPath || !stageInto) {
  process.stderr.write('usage: node bench/stage-pack.mjs PACK TRUST STAGE_DIR\n');
  process.exit(2);
}
const result = await verifyPack(file, { trust: await loadTrust(trustPath), stageInto });
process.stdout.write(
  `${JSON.stringify({ bytes: result.bytes, files: result.manifest.files.length, staged: result.staged ?? null })}\n`,
);
