export { applyFactFlags, loadFacts } from './load.ts';
