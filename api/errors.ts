/**
 * The API's error vocabulary and its one error handler. Every 4xx body names the field and the
 * problem (`{error, message, issues: [{in, field, problem}]}`), so a client can fix its request without
 * reading the server's logs; a 5xx is only ever a fault of ours or of a service we depend on.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const IssueSchema = z.object({
  in: z.enum(['query', 'path', 'body', 'header']).describe('where the field is'),
  field: z.string().describe('the parameter, header or body path'),
  problem: z.string(),
});
export type Issue = z.infer<typeof IssueSchema>;

export const ErrorSchema = z
  .object({
    error: z.string().describe('machine-readable code: bad_request, unauthorized, forbidden, not_found, conflict, rate_limited, unavailable, internal'),
    message: z.string(),
    issues: z.array(IssueSchema).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorSchema>;

/**
 * Responses every route may give, for the OpenAPI document: 414 when a path segment is longer than 200
 * characters, 431 when the request line and headers pass 16 kB (Node's limit), both with the same body.
 */
export const commonErrors = { 400: ErrorSchema, 401: ErrorSchema, 414: ErrorSchema, 429: ErrorSchema, 431: ErrorSchema, 500: ErrorSchema } as const;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
  }
  body(): ErrorBody {
    return { error: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

export const badRequest = (issues: Issue[], message?: string) =>
  new ApiError(400, 'bad_request', message ?? issues.map((i) => `${i.field}: ${i.problem}`).join('; '), issues);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const unauthorized = (field: string, problem: string) =>
  new ApiError(401, 'unauthorized', `${field}: ${problem}`, [{ in: 'header', field, problem }]);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const unavailable = (message: string) => new ApiError(503, 'unavailable', message);

const CONTEXT_TO_IN: Record<string, Issue['in']> = { querystring: 'query', params: 'path', body: 'body', headers: 'header' };

interface ValidationEntry {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function issuesOf(validation: ValidationEntry[], context: string | undefined): Issue[] {
  const where = CONTEXT_TO_IN[context ?? ''] ?? 'query';
  const issues: Issue[] = [];
  for (const v of validation) {
    const field = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys)) {
      for (const key of v.params.keys as string[]) issues.push({ in: where, field: field ? `${field}.${key}` : key, problem: where === 'query' ? 'unknown parameter' : 'unknown field' });
      continue;
    }
    issues.push({ in: where, field: field || '(whole)', problem: v.message ?? 'invalid' });
  }
  return issues;
}

/** PostgreSQL error classes that can only come from a value the client gave (a guard behind validation). */
const CLIENT_DATA_ERRORS = /^22/;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validationContext?: string; code?: string }, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(err.body());
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = issuesOf(err.validation as ValidationEntry[], err.validationContext);
      return reply.code(400).send(badRequest(issues).body());
    }
    if (err.validation) {
      return reply.code(400).send(badRequest(issuesOf(err.validation as ValidationEntry[], err.validationContext)).body());
    }
    if (typeof err.code === 'string' && CLIENT_DATA_ERRORS.test(err.code) && 'severity' in err) {
      req.log.warn({ err }, 'database refused a value that passed validation');
      return reply.code(400).send({ error: 'bad_request', message: `invalid value: ${err.message}` });
    }
    if (err.code === '57014') {
      req.log.error({ err }, 'query cancelled by the statement timeout');
      return reply.code(503).send({ error: 'unavailable', message: 'the query took too long and was cancelled; narrow the filters' });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      return reply.code(status).send({ error: code, message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error; the server log has the details' });
  });
  // Paths the API serves, to tell a method it does not accept (405, with Allow) from a path it does not know.
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+')}/?$`);
    for (const method of [route.method].flat()) routes.push({ pattern, method });
  });
  const allowedOn = (path: string) => [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  const methodNotAllowed = (req: FastifyRequest, reply: FastifyReply, path: string, allowed: string[]) =>
    reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send({ error: 'method_not_allowed', message: `${req.method} is not accepted on ${path}; allowed: ${allowed.join(', ')}` });
  // Methods no route of the API declares (TRACE, QUERY…) are answered before anything reads a body.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST') return;
    const path = req.url.split('?')[0]!;
    const allowed = allowedOn(path);
    if (allowed.length > 0 && !allowed.includes(req.method)) await methodNotAllowed(req, reply, path, allowed);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = allowedOn(path);
    if (allowed.length > 0) return methodNotAllowed(req, reply, path, allowed);
    return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${path}; the API is described at /docs` });
  });
}

/** Errors met before a route is found (a path segment over the router's limit, a malformed URL): same body shape. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({ error: 'uri_too_long', message: 'a path segment is longer than 200 characters' });
    return;
  }
  void reply.code(400).send({ error: 'bad_request', message: err.message });
}

/** Requests Node's HTTP parser refuses (headers over 16 kB, malformed): answered with the API's error body. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, body]: [number, ErrorBody] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, { error: 'request_header_fields_too_large', message: 'the request line and headers exceed 16 kB; shorten the URL' }]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { error: 'request_timeout', message: 'the request was not received in time' }]
        : [400, { error: 'bad_request', message: 'malformed HTTP request' }];
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
      `Connection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
