/**
 * The codec endpoint of the Temporal Web UI and CLI (`POST /codec/encode`, `POST /codec/decode`, the
 * JSON format Temporal documents: `{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}`),
 * so an operator sees decrypted payloads where histories hold ciphertext (control/payload-codec.ts).
 *
 * Who may call it:
 * - a browser page from one of the configured Web UI origins (MOISSON_CODEC_ORIGINS, default the origin
 *   of TEMPORAL_UI_URL): CORS answers that origin only, and any other Origin gets 403;
 * - a caller without an Origin (the `temporal` CLI's `--codec-endpoint`) only with
 *   `Authorization: Bearer <MOISSON_CODEC_TOKEN>`; without a configured token such callers get 403.
 * An Origin header is the browser's word: it keeps other web pages out, not a program that forges it.
 * Bind the API where only operators reach it (see the README's operations section).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TamperedPayloadError, UnknownPayloadKeyError } from '../../control/payload-codec';
import type { ApiContext, CodecServerSettings, ZodApp } from '../context';
import { ApiError, commonErrors, ErrorSchema, forbidden, unauthorized, unavailable } from '../errors';

const PayloadJsonSchema = z.object({
  metadata: z.record(z.string(), z.string()).nullish().describe('metadata values in base64'),
  data: z.string().nullish().describe('the payload bytes in base64'),
});
const PayloadsSchema = z.object({ payloads: z.array(PayloadJsonSchema) }).meta({ id: 'CodecPayloads' });
type PayloadJson = z.infer<typeof PayloadJsonSchema>;

/** A history page the UI decodes at once can be large (payloads up to Temporal's 2 MB each). */
const CODEC_BODY_LIMIT = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

function fromJson(p: PayloadJson): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
  };
}

function toJson(p: Payload): PayloadJson {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '', 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Admits the caller (or throws 401/403) and sets the CORS headers an admitted browser needs. */
function admit(settings: CodecServerSettings, req: FastifyRequest, reply: FastifyReply, preflight: boolean): void {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (!settings.uiOrigins.includes(origin)) {
      throw forbidden(`origin ${origin} may not use the codec endpoint (allowed: ${settings.uiOrigins.join(', ')}; MOISSON_CODEC_ORIGINS)`);
    }
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-allow-credentials', 'true');
    if (preflight) {
      reply.header('access-control-allow-methods', 'POST, OPTIONS').header('access-control-allow-headers', ALLOWED_HEADERS).header('access-control-max-age', '600');
    }
    return;
  }
  if (preflight) throw forbidden('a CORS preflight needs an Origin header');
  if (!settings.token) throw forbidden('callers without an Origin need a token, and this server has no MOISSON_CODEC_TOKEN');
  const auth = req.headers.authorization;
  if (auth === undefined) throw unauthorized('Authorization', 'missing: Bearer <MOISSON_CODEC_TOKEN>');
  if (!bearerMatches(auth, settings.token)) throw unauthorized('Authorization', 'not the codec token');
}

export function codecRoutes(app: ZodApp, ctx: ApiContext): void {
  const settings: CodecServerSettings = ctx.codec ?? { codec: undefined, uiOrigins: [], token: undefined };
  const tags = ['system'];
  for (const op of ['encode', 'decode'] as const) {
    const path = `/codec/${op}`;
    app.options(path, {
      schema: { tags, summary: `CORS preflight of ${path}`, response: { 204: z.null(), 403: ErrorSchema } },
      handler: async (req, reply) => {
        admit(settings, req, reply, true);
        return reply.code(204).send(null);
      },
    });
    app.post(path, {
      bodyLimit: CODEC_BODY_LIMIT,
      // Admission before the body is read: a refused caller never gets the body parsed.
      onRequest: async (req, reply) => admit(settings, req, reply, false),
      schema: {
        tags,
        summary: op === 'encode' ? 'Encrypt payloads with the current key (Temporal codec server format)' : 'Decrypt payloads (Temporal codec server format), for the Web UI and CLI',
        body: PayloadsSchema,
        response: { 200: PayloadsSchema, ...commonErrors, 403: ErrorSchema, 503: ErrorSchema },
      },
      handler: async (req) => {
        const codec = settings.codec;
        if (!codec) throw unavailable('the payload codec is off on this server (no MOISSON_PAYLOAD_KEYS)');
        const payloads = req.body.payloads.map(fromJson);
        try {
          const out = op === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
          return { payloads: out.map(toJson) };
        } catch (err) {
          if (err instanceof UnknownPayloadKeyError || err instanceof TamperedPayloadError) throw new ApiError(400, 'bad_request', err.message);
          throw err;
        }
      },
    });
  }
}
