import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The audit page: a static bundle the gateway serves at `/audit/` (see src/audit/audit-page.ts).
 * Everything is bundled (no CDN, nothing fetched at run time) and nothing is inlined, so the page
 * runs under a strict `script-src 'self'; style-src 'self'` CSP.
 */
export default defineConfig({
  root: here('.'),
  base: '/audit/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/audit-ui'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
