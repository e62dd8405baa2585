// Builds the dashboard into dist/web, which the admin listener serves (src/admin/static.ts).
// Preact's JSX runs through esbuild's automatic runtime: no Babel step, so the build stays fast.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: nothing is fetched lazily, and nothing from another origin.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  // `npx vite --config web/vite.config.ts` for work on the screens: API calls go to a running admin listener.
  server: { host: '127.0.0.1', proxy: { '/api': process.env.GATEHOUSE_ADMIN_URL ?? 'http://127.0.0.1:8081' } },
});
