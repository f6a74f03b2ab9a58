/**
 * The operator console: its built page (console/dist, `npm run console:build`) at /console/, and the
 * routes the page needs besides the data API: sign-in, sign-out, the session, and the few settings the
 * page shows (the Temporal Web UI's address). The page reads and writes only through the REST API.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors, ErrorSchema } from '../errors';
import type { ConsoleSessions } from './sessions';

const V1 = '/api/v1';

/** Where `npm run console:build` writes the page (console/vite.config.ts). */
export const CONSOLE_DIST = join(import.meta.dirname, '..', '..', 'console', 'dist');

const SessionSchema = z
  .object({
    signInEnabled: z.boolean().describe('false when the server has no MOISSON_CONSOLE_PASSWORD'),
    signedIn: z.boolean(),
    csrfToken: z.string().optional().describe('send it back in X-CSRF-Token on every write made with the session'),
    expiresAt: z.string().optional(),
    message: z.string().optional(),
  })
  .meta({ id: 'ConsoleSession' });

const ConsoleConfigSchema = z
  .object({
    temporalUiUrl: z.string().describe('the Temporal Web UI, for links to runs'),
    temporalNamespace: z.string(),
    sessionExpiresAt: z.string().nullable(),
  })
  .meta({ id: 'ConsoleConfig' });

export async function consoleRoutes(app: ZodApp, ctx: ApiContext, sessions: ConsoleSessions, distDir = CONSOLE_DIST): Promise<void> {
  const tags = ['console'];
  const disabledMessage = 'console sign-in is disabled: set MOISSON_CONSOLE_PASSWORD on the API server';

  app.get(`${V1}/console/session`, {
    schema: { tags, summary: 'Whether this browser has a console session (and its CSRF token)', response: { 200: SessionSchema, ...commonErrors } },
    handler: async (req) => {
      if (!sessions.enabled) return { signInEnabled: false, signedIn: false, message: disabledMessage };
      const found = sessions.of(req);
      if (!found) return { signInEnabled: true, signedIn: false };
      return { signInEnabled: true, signedIn: true, csrfToken: found.session.csrfToken, expiresAt: new Date(found.session.expiresAt).toISOString() };
    },
  });

  app.post(`${V1}/console/session`, {
    // Guessing the password is slow by design: a handful of tries per minute per client.
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
    schema: {
      tags,
      summary: 'Sign in to the console: sets the session cookie (HttpOnly, SameSite=Strict)',
      body: z.strictObject({ password: z.string().min(1, 'required').max(1024) }),
      response: { 201: SessionSchema, 403: ErrorSchema, ...commonErrors },
    },
    handler: async (req, reply) => {
      const { id, session } = sessions.signIn(req.body.password);
      sessions.setCookie(req, reply, id);
      req.log.info('console session opened');
      return reply.code(201).send({ signInEnabled: true, signedIn: true, csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString() });
    },
  });

  app.delete(`${V1}/console/session`, {
    schema: {
      tags,
      summary: 'Sign out of the console (X-CSRF-Token required)',
      headers: z.object({ 'x-csrf-token': z.string().optional() }),
      response: { 204: z.null().describe('signed out'), ...commonErrors },
    },
    handler: async (req, reply) => {
      sessions.verifyWrite(req);
      sessions.signOut(req);
      sessions.clearCookie(req, reply);
      return reply.code(204).send(null);
    },
  });

  app.get(`${V1}/console/config`, {
    schema: { tags, summary: "What the console page shows of the server's settings (no secrets)", response: { 200: ConsoleConfigSchema, ...commonErrors } },
    handler: async (req) => {
      const found = sessions.of(req);
      return {
        temporalUiUrl: ctx.temporalUiUrl,
        temporalNamespace: ctx.temporalNamespace,
        sessionExpiresAt: found ? new Date(found.session.expiresAt).toISOString() : null,
      };
    },
  });

  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 302));

  if (!existsSync(join(distDir, 'index.html'))) {
    app.get('/console/*', { schema: { hide: true } }, async (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run console:build`, then restart the API.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/console/',
    // Files are listed once, at startup: a rebuilt console needs an API restart (its asset names change).
    wildcard: false,
    cacheControl: false,
    schemaHide: true,
    setHeaders: (res, path) => {
      // Vite names assets by their content hash: a name never changes meaning, so it may be cached for good.
      res.setHeader('cache-control', path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // The page routes by its URL hash, but any /console/<something> reload still gets the page (SPA fallback);
  // a missing hashed asset is a 404, not the page under a script's name.
  app.get('/console/*', { schema: { hide: true } }, async (req, reply) => {
    if (req.url.startsWith('/console/assets/')) return reply.code(404).send({ error: 'not_found', message: `no console asset ${req.url.split('?')[0]}` });
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
