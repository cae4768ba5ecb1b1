/** A condition over the installation's facts. Three-valued: true, false, or unknown (a fact is missing). */
export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | {
      fact: string;
      equals?: string | number | boolean;
      notEquals?: string | number | boolean;
      in?: (string | number | boolean)[];
      exists?: boolean;
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
      versionAtLeast?: string;
      versionBelow?: string;
      matches?: string;
      contains?: string | number | boolean;
    };

export const factOperators = [
  'equals',
  'notEquals',
  'in',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'versionAtLeast',
  'versionBelow',
  'matches',
  'contains',
] as const;
