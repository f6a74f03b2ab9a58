/**
 * A route serializer for large pages: the answer is checked against the JSON Schema of its zod response
 * schema (what /docs publishes for it) by a compiled ajv validator, then stringified as it is.
 *
 * Why: fastify-type-provider-zod's serializer encodes the answer through zod before JSON.stringify, and
 * zod's encode copies every row and every record and array in it. For the review grid's pages of 1,000
 * suggestions that copy cost about 3 ms of a ~20 ms request, and JSON.stringify of the copy ran slower
 * than of the rows themselves (the copies' records are built key by key): the API answered 0.66-0.84x the
 * requests of a bare node:http handler of the same review function. ajv checks the same page without
 * copying it in about 0.1 ms.
 *
 * What it answers is what zod's serializer answers, byte for byte, when:
 * - the schema holds no transform, codec or date: z.toJSONSchema refuses those in output mode, so such a
 *   route fails when it is registered, not on a request;
 * - the schema has no refinement (JSON Schema cannot say one; this check would not run it);
 * - the answer's objects hold their keys in the schema's order (zod builds its copy in that order; a
 *   key the schema does not name is refused here, where zod dropped it).
 * tests/api/consolidation.test.ts compares the two on the suggestions pages.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
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
 * A route's `serializerCompiler`: a 2xx answer is checked by ajv against its published schema and
 * stringified as is; other statuses are serialized as everywhere else (zod).
 */
export function contractSerializer(route: RouteSchemaDef<unknown>): (data: unknown) => string {
  const { schema, method, url, httpStatus } = route;
  if (!(schema instanceof z.ZodType) || !httpStatus?.startsWith('2')) return serializerCompiler(route as RouteSchemaDef<z.ZodType>);
  const validate = ajv.compile(z.toJSONSchema(schema, { io: 'output' }));
  return (data) => {
    if (!validate(data)) throw new ResponseSerializationError(method, url, { cause: issuesOf(validate.errors ?? []) });
    return JSON.stringify(data);
  };
}
