// Temporary helper until `uplift catalog validate` lands: schema-only check of a catalog file.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { Catalog } from '../src/catalog/schema.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: tsx tools/zod-check-catalog.ts FILE');
const r = Catalog.safeParse(parse(readFileSync(file, 'utf8')));
if (r.success) console.log(`ok: ${r.data.releases.length} releases`);
else {
  console.log(z.prettifyError(r.error));
  process.exitCode = 2;
}
