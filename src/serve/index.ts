export { createServeApp, type ServeAppOptions } from './app.ts';
export { apiSchemas } from './schema.ts';
export {
  isLoopback,
  parseListen,
  type RunningServer,
  type ServeOptions,
  startServe,
} from './server.ts';
export { SignInLinks } from './sign-in-link.ts';
export { createServeToken, revokeServeToken } from './tokens.ts';
