/**
 * The REST API as a Fastify instance, built apart from the listening server (api/server.ts) so tests
 * drive it in-process with `app.inject`. zod schemas validate every request and response and produce the
 * OpenAPI 3.1 document (`/docs/json`, Swagger UI at `/docs`); responses are compressed; every request is
 * logged as JSON by pino; `/health` checks PostgreSQL, MongoDB and Temporal; `/metrics` is Prometheus text.
 */
import compress from '@fastify/compress';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyServerOptions, type preValidationHookHandler } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ReadKeys, SignatureVerifier } from './auth';
import type { ApiContext, ZodApp } from './context';
import { clientErrorHandler, ErrorSchema, frameworkErrors, installErrorHandler } from './errors';
import { pmmpRoutes } from './pmmp/routes';
import { pricesRoutes } from './prices/routes';
import { leadsDataRoutes } from './leads/data';
import { leadsRoutes } from './leads/routes';
import { runsRoutes } from './runs/routes';
import { consolidationRoutes } from './consolidation/routes';
import { codecRoutes } from './codec/routes';
import { consoleRoutes } from './console/routes';
import { ConsoleSessions, cookieValue, SESSION_COOKIE } from './console/sessions';
import { API_METRICS_CONTENT_TYPE, createApiMetrics } from './metrics';
import { checkDependencies } from './health/checks';
import { healthRoutes } from './health/routes';
import { apisyncRoutes } from './apisync/routes';
import { statsRoutes } from './stats/routes';
import { leadsStatsRoutes } from './leads/stats-routes';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: what a request signature covers. */
    rawBody?: string;
  }
}

export const API_VERSION = '1.0.0';
const BODY_LIMIT = 64 * 1024;

export interface BuildOptions {
  /** pino options, or false (tests). Default: JSON logs at `info`. */
  logger?: FastifyServerOptions['logger'];
  /** The signature verifier's clock (tests move it). */
  signatureClock?: () => number;
  /** The console sessions' clock (tests expire sessions with it). */
  consoleClock?: () => number;
  /** Where the built console is (default console/dist). */
  consoleDir?: string;
}

export async function buildApp(ctx: ApiContext, opts: BuildOptions = {}): Promise<ZodApp> {
  const app = Fastify({
    logger: opts.logger ?? { level: 'info', redact: ['req.headers["x-api-key"]', 'req.headers["x-signature"]'] },
    bodyLimit: BODY_LIMIT,
    trustProxy: ctx.config.trustProxy,
    // Bad input answers 400 naming the field, whichever validator met it first.
    ajv: { customOptions: { allErrors: true } },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const raw = typeof body === 'string' ? body : body.toString('utf8');
    req.rawBody = raw;
    if (raw.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(raw));
    } catch (err) {
      done(Object.assign(new Error(`body is not JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  // ---- metrics
  const apiMetrics = createApiMetrics();
  app.addHook('onResponse', async (req, reply) => {
    apiMetrics.answered({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
  });
  app.addHook('onClose', async () => apiMetrics.shutdown());

  await app.register(compress, { threshold: 1024 });
  await app.register(rateLimit, {
    max: ctx.config.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => {
      const key = req.headers['x-api-key'];
      return typeof key === 'string' && key ? `key:${key}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, c) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `more than ${c.max} requests per minute from this client; retry in ${Math.ceil(c.ttl / 1000)} s`,
    }),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'moisson API',
        version: API_VERSION,
        description:
          "Morocco's public procurement (marchespublics.gov.ma) and daily prices as moisson collected them, and control of the pipeline runs. " +
          'Reads are open, or need `X-API-Key` when the server lists keys (API_READ_KEYS). Writes are signed: `X-Timestamp` (unix seconds) and ' +
          '`X-Signature` = hex HMAC-SHA256 of `<X-Timestamp>.<raw body>` with the shared secret; 300 s window, each signature accepted once. ' +
          'Every error is JSON `{error, message, issues?: [{in, field, problem}]}`.',
      },
      tags: [
        { name: 'procurement', description: 'consultations, notices, awards, statistics, exports, proofs' },
        { name: 'prices', description: 'daily prices in MRU' },
        { name: 'runs', description: 'pipeline runs through Temporal' },
        { name: 'consolidation', description: 'open-data acteurs: suggestion cohorts, review decisions, consolidation runs' },
        { name: 'apisync', description: 'the SaaS API sync: streams, watermarks, runs, rate limits' },
        { name: 'leads data', description: 'what the leads jobs collected: contacts (with validation and MailWizz state) and articles' },
        { name: 'console', description: 'the operator console (/console/): sign-in, sign-out, its settings' },
        { name: 'system', description: 'health, dependencies, daily volumes and metrics' },
      ],
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // ---- authentication
  const readKeys = new ReadKeys(ctx.config.readKeys);
  const signatures = new SignatureVerifier({ secret: ctx.config.hmacSecret, windowMs: ctx.config.signatureWindowMs, now: opts.signatureClock });
  const consoleSessions = new ConsoleSessions({ password: ctx.config.consolePassword, ttlMs: ctx.config.consoleSessionTtlMs, now: opts.consoleClock });
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'GET' || !req.url.startsWith('/api/')) return;
    // The console asks whether it is signed in before it has anything else to show.
    if (req.url.split('?')[0] === '/api/v1/console/session') return;
    // A console session is as good as a read key: the operator proved the console password.
    if (readKeys.enabled && consoleSessions.of(req)) return;
    readKeys.verify(req.headers);
  });
  // A write is authenticated by its HMAC signature or, from the console, by the session cookie plus the
  // session's CSRF token (api/auth.ts says why both keep the signed-writes rule).
  const signed: preValidationHookHandler = (req, _reply, done) => {
    try {
      if (req.headers['x-signature'] === undefined && cookieValue(req.headers.cookie, SESSION_COOKIE) !== undefined) consoleSessions.verifyWrite(req);
      else signatures.verify(req.headers, req.rawBody ?? '');
      done();
    } catch (err) {
      done(err as Error);
    }
  };

  // ---- system
  app.get('/health', {
    schema: {
      tags: ['system'],
      summary: 'Whether PostgreSQL, MongoDB and Temporal answer; 503 names the ones that do not',
      response: {
        200: HealthSchema,
        503: HealthSchema,
      },
    },
    config: { rateLimit: false },
    handler: async (_req, reply) => {
      const entries = await checkDependencies(ctx.health);
      const checks = Object.fromEntries(entries);
      const down = entries.filter(([, c]) => c.status === 'down').map(([n]) => n);
      return reply.code(down.length ? 503 : 200).send({ status: down.length ? 'degraded' : 'ok', down, checks });
    },
  });
  app.get('/metrics', {
    schema: { tags: ['system'], summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } } },
    config: { rateLimit: false },
    handler: async (_req, reply) => reply.header('content-type', API_METRICS_CONTENT_TYPE).send(await apiMetrics.scrape()),
  });

  pmmpRoutes(app, ctx, apiMetrics);
  pricesRoutes(app, ctx);
  runsRoutes(app, ctx, { preValidation: signed });
  leadsRoutes(app, ctx, { preValidation: signed });
  leadsDataRoutes(app, ctx);
  consolidationRoutes(app, ctx, { preValidation: signed });
  codecRoutes(app, ctx);
  healthRoutes(app, ctx);
  apisyncRoutes(app, ctx);
  statsRoutes(app, ctx);
  leadsStatsRoutes(app, ctx);
  await consoleRoutes(app, ctx, consoleSessions, opts.consoleDir);
  return app;
}

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    down: z.array(z.string()),
    checks: z.record(z.string(), z.object({ status: z.enum(['up', 'down']), latency_ms: z.number(), error: z.string().optional() })),
  })
  .meta({ id: 'Health' });

export { ErrorSchema };
