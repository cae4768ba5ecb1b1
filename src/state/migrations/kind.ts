/** Which database a store runs on. */
export type StoreKind = 'sqlite' | 'postgres';
