// Writes schemas/*.schema.json from the zod schemas; schemas/schemas.test.ts guards that they are current.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishedSchemas, renderSchema } from './schemas.ts';

const dir = join(import.meta.dirname, '../schemas');
for (const [name, schema] of Object.entries(publishedSchemas())) {
  writeFileSync(join(dir, name), renderSchema(schema));
  console.log(`wrote schemas/${name}`);
}
