/**
 * Serializers that answer large pages without copying them: the answer is checked against the JSON Schema
 * of its zod response schema (what /docs publishes for it) by a compiled ajv validator, then stringified
 * as it is. Two users: the routes that send objects (`contractSerializer`, a route's serializerCompiler)
 * and the reads that send a body serialized ahead (`responseContract`, api/response-cache.ts).
 *
 * Why: fastify-type-provider-zod's serializer encodes the answer through zod before JSON.stringify, and
 * zod's encode copies every row and every record and array in it. For the review grid's pages of 1,000
 * suggestions that copy cost about 3 ms of a ~20 ms request, and JSON.stringify of the copy ran slower
 * than of the rows themselves (the copies' records are built key by key): the API answered 0.66-0.84x the
 * requests of a bare node:http handler of the same review function. ajv checks the same page without
 * copying it in about 0.1 ms. On the procurement reads' cold path (every request runs its SQL) the copy
 * and the stringify of the copy were about a seventh of the API's CPU per consultation detail.
 *
 * What it answers is what zod's serializer answers, byte for byte, when:
 * - the schema holds no transform, codec or date: z.toJSONSchema refuses those in output mode;
 * - the schema has no refinement (JSON Schema cannot say one; this check would not run it);
 * - the answer's objects hold their keys in the schema's order (zod builds its copy in that order; a
 *   key the schema does not name is refused here, where zod dropped it).
 * The first two are decided when a route registers: `contractSerializer` refuses such a schema (the app
 * does not start), `responseContract` serializes through zod for it. The third is the builders' part:
 * tests/api/consolidation.test.ts and tests/api/pmmp-contract.test.ts compare the two on real pages.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FastifySerializerCompiler } from 'fastify';
import { ResponseSerializationError, serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type RouteSchemaDef<T> = Parameters<FastifySerializerCompiler<T>>[0];

// Strict about the schema (an unknown keyword or format is an error when the route is registered), not
// about type unions: zod writes a nullable record as anyOf [object, null].
const ajv = new Ajv2020({ strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: false });

/** ajv's complaints as zod issues: the error the zod serializer throws, with the same kind of cause. */
const issuesOf = (errors: ErrorObject[]) =>
  new z.ZodError(errors.map((e) => ({ code: 'custom' as const, input: undefined, path: e.instancePath.split('/').slice(1), message: `${e.message ?? e.keyword} (${e.schemaPath})` })));

/**
 * zod checks JSON Schema states as keywords (bounds, lengths, sizes, patterns, integer): any other check
 * (a refinement, an overwrite such as trim) runs only in zod, and a schema holding one is not checked here.
 */
const STATED_CHECKS = new Set(['less_than', 'greater_than', 'multiple_of', 'number_format', 'max_size', 'min_size', 'size_equals', 'max_length', 'min_length', 'length_equals', 'string_format']);

/** Keywords that apply to one JSON type (and annotations): a schema holding only these can take `null` as a second type. */
const ONE_TYPE_KEYWORDS = new Set(['type', 'description', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'pattern', 'minLength', 'maxLength']);

/**
 * zod writes a nullable schema that says more than its type (an enum, a bound, a description) as
 * `anyOf: [S, {type: 'null'}]`; ajv checks that by trying S first, and a null answer (most of a page's
 * optional columns) builds and drops an error object on every try. The same check, written as S with
 * `type: [T, 'null']` (and null among its enum), costs a third less on a page of 50 consultations.
 * Only for this check: the published document is left as zod writes it.
 */
function nullableAsTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAsTypes);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullableAsTypes(v);
  const [first, second, ...more] = Array.isArray(out.anyOf) ? (out.anyOf as Record<string, unknown>[]) : [];
  if (!first || !second || more.length || Object.keys(out).length !== 1) return out;
  const isNull = second.type === 'null' && Object.keys(second).length === 1;
  const oneType = typeof first.type === 'string' && Object.keys(first).every((k) => ONE_TYPE_KEYWORDS.has(k));
  if (!isNull || !oneType) return out;
  return { ...first, type: [first.type, 'null'], ...(Array.isArray(first.enum) ? { enum: [...(first.enum as unknown[]), null] } : {}) };
}

/**
 * The compiled check of `schema`'s answers, or why there is none: z.toJSONSchema refuses transforms,
 * codecs and dates, skips refinements silently (found here while it walks the schema), and ajv refuses a
 * keyword or format it does not know.
 */
function compileContract(schema: z.ZodType): ValidateFunction | Error {
  const unstated: string[] = [];
  try {
    const jsonSchema = z.toJSONSchema(schema, {
      io: 'output',
      override: ({ zodSchema }) => {
        for (const check of zodSchema._zod.def.checks ?? []) {
          if (!STATED_CHECKS.has(check._zod.def.check)) unstated.push(check._zod.def.check);
        }
      },
    });
    if (unstated.length) return new Error(`the schema holds checks JSON Schema cannot state: ${[...new Set(unstated)].join(', ')}`);
    return ajv.compile(nullableAsTypes(jsonSchema) as object);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * A route's `serializerCompiler`: a 2xx answer is checked by ajv against its published schema and
 * stringified as is; other statuses are serialized as everywhere else (zod). A schema it cannot check
 * fails the route's registration.
 */
export function contractSerializer(route: RouteSchemaDef<unknown>): (data: unknown) => string {
  const { schema, method, url, httpStatus } = route;
  if (!(schema instanceof z.ZodType) || !httpStatus?.startsWith('2')) return serializerCompiler(route as RouteSchemaDef<z.ZodType>);
  const validate = compileContract(schema);
  if (validate instanceof Error) throw validate;
  return (data) => {
    if (!validate(data)) throw new ResponseSerializationError(method, url, { cause: issuesOf(validate.errors ?? []) });
    return JSON.stringify(data);
  };
}

/** The JSON of an answer that fits its schema; one that does not throws (a 500, as zod's serializer). */
export type ResponseContract<T> = (value: T) => string;

/**
 * The serializer of a body built ahead of Fastify's (a cached read): checked by ajv and stringified as is
 * when the schema allows (see above), else encoded through zod and stringified (what Fastify's zod
 * serializer does). Chosen once, when the route registers. A wrong answer throws a ZodError either way.
 */
export function responseContract<S extends z.ZodType>(schema: S): ResponseContract<z.output<S>> {
  const validate = compileContract(schema);
  if (validate instanceof Error) return (value) => JSON.stringify(z.encode(schema, value));
  return (value) => {
    if (!validate(value)) throw issuesOf(validate.errors ?? []);
    return JSON.stringify(value);
  };
}
