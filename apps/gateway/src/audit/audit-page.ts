import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The audit page's build output (`vite build` of `apps/gateway/audit-ui`). Two levels under the
 * package root both from `src/audit/` (tests, source condition) and `dist/audit/` (the build).
 */
export const AUDIT_UI_DIR = fileURLToPath(new URL('../../dist/audit-ui/', import.meta.url));

/**
 * Everything the page loads comes from this origin; no inline script or style, no frames, and the
 * page sends no referrer (session ids are in its URL fragment, never in a request).
 */
export const AUDIT_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const auditHeaders = (reply: { header: (name: string, value: string) => unknown }, path: string): void => {
  reply.header('content-security-policy', AUDIT_PAGE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  // asset names carry a content hash; the page itself must be re-checked to pick up a new build
  reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
};

/**
 * Serves the audit page at `/audit/` (and `/audit` redirects there). Without a build, `/audit/`
 * answers 503 saying how to build it, so a missing step is visible instead of a bare 404.
 */
export const serveAuditPage = async (fastify: FastifyInstance, root = AUDIT_UI_DIR): Promise<void> => {
  fastify.get('/audit', async (_request, reply) => reply.redirect('/audit/', 301));
  if (!existsSync(`${root}/index.html`)) {
    fastify.get('/audit/*', async (request, reply) =>
      reply
        .status(503)
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          title: 'Audit page not built',
          status: 503,
          detail: `No build at ${root}: run \`npm run build\` (it runs \`vite build\` of apps/gateway/audit-ui).`,
          instance: request.url,
        }),
    );
    return;
  }
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/audit/',
    decorateReply: false,
    index: 'index.html',
    setHeaders: auditHeaders,
  });
};
