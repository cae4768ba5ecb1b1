export { formatBytes, formatDuration, formatValue } from './format.ts';
