export { createServeApp, type ServeAppOptions } from './app.ts';
export { apiSchemas } from './schema.ts';
export {
  isLoopback,
  parseListen,
  type RunningServer,
  type ServeOptions,
  startServe,
} from './server.ts';
export { createServeToken, revokeServeToken } from './tokens.ts';
