import dedent from 'dedent';
import { type LoadedCatalog, parseCatalog } from '../../src/catalog/index.ts';

const head = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
`;

/**
 * A catalog of the product `demo` (dotted-patch versions), parsed as `demo.yaml`, from its
 * top-level sections (releases, upgrade, durations, …) in order, each written unindented.
 */
export async function demoCatalog(...sections: string[]): Promise<LoadedCatalog> {
  return parseCatalog([head, ...sections, ''].join('\n'), 'demo.yaml');
}
