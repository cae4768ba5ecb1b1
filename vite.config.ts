import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * The dashboard (src/dashboard) built into dist/dashboard, which `uplift serve` serves
 * (src/serve/static.ts). No inline script or style (the server's CSP is script-src 'self',
 * style-src 'self'), no CDN: every file is in the package.
 */
const repo = fileURLToPath(new URL('.', import.meta.url));
const root = join(repo, 'src/dashboard');

/**
 * The report's components and model reach `util` and `plan` through their index.ts, as every
 * folder must (src/architecture.test.ts); those also export Node-only code (files, processes,
 * zod). In the browser build they resolve to the one module of each that the components use,
 * which imports nothing at run time. A name the components need that is not there fails the
 * build ("is not exported by"), so this cannot hide a missing export.
 */
const browserModules: Record<string, string> = {
  'src/util/index.ts': 'src/util/format.ts',
  'src/plan/index.ts': 'src/plan/step-method.ts',
};
function browserOnly(): Plugin {
  return {
    name: 'uplift-browser-modules',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const found = await this.resolve(source, importer, { ...options, skipSelf: true });
      const leaf = found && browserModules[relative(repo, found.id)];
      return leaf ? join(repo, leaf) : found;
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [browserOnly(), react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    // Hashed file names under assets/: the server caches them for a year.
    assetsDir: 'assets',
    // No base64 inlining of fonts or images into CSS: img-src allows data:, but keep it plain.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // The report's components reach shared folders through their index.ts, which also export
      // Node-only helpers; the dashboard uses none of them, so modules outside the dashboard are
      // declared free of side effects and whatever it does not use is left out of the bundle.
      treeshake: { moduleSideEffects: (id) => id.startsWith(root) || /\.css$/.test(id) },
    },
  },
});
