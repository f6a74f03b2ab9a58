/**
 * The route serializer that checks an answer with ajv against its published schema instead of copying it
 * through zod (api/contract-serializer.ts): the same JSON as zod's serializer for an answer that fits,
 * a 500 for one that does not (a wrong type, a key the schema does not name), zod's serializer for the
 * other statuses, and a route whose schema it cannot check refused when the app starts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contractSerializer, responseContract } from '../../api/contract-serializer';
import { SuggestionPageSchema } from '../../api/consolidation/routes';

type Page = z.output<typeof SuggestionPageSchema>;

const suggestion = (id: number): Page['items'][number] => ({
  id,
  cohorte_id: 7,
  cle: `acteur-${id}`,
  statut: 'AVALIDER',
  contexte: id % 2 ? null : { ville: 'Lyon', code_postal: '69001' },
  changes: [{ order: 1, reason: 'valeur corrigée par la source', model_name: 'acteur_update_data', model_params: { id: `acteur-${id}`, data: { ville: 'Lyon 2e' } } }],
  metadata: { reason: 'corrigé par la source', evidence: { source: 'ban', label: '1 Rue de la République 69002 Lyon', score: 0.93 } },
  created_at: '2026-11-20T10:00:00.000Z',
  updated_at: '2026-11-20T10:00:00.000Z',
});

/** An app answering `answer` on /page with the suggestion page's schema, serialized by contractSerializer. */
async function appAnswering(answer: () => unknown, status: 200 | 404 = 200) {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.get('/page', {
    schema: { response: { 200: SuggestionPageSchema, 404: z.object({ error: z.string() }) } },
    serializerCompiler: contractSerializer,
    // The wrong answers are the point: the type provider would refuse them at compile time.
    handler: async (_req, reply) => reply.code(status).send(answer() as Page),
  });
  await app.ready();
  return app;
}

describe('contract serializer', () => {
  test("a page that fits its schema is answered as zod's serializer answers it, byte for byte", async () => {
    const page: Page = { items: [suggestion(1), suggestion(2), suggestion(3)], next_cursor: '3', total: null };
    const app = await appAnswering(() => page);
    const res = await app.inject({ method: 'GET', url: '/page' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, JSON.stringify(z.encode(SuggestionPageSchema, page)));
    await app.close();
  });

  test('a page that does not fit is a 500, not an answer outside the contract', async () => {
    const wrong: [string, () => unknown][] = [
      ['metadata as an array', () => ({ items: [{ ...suggestion(1), metadata: ['corrigé'] }], next_cursor: null, total: 1 })],
      ['an unknown statut', () => ({ items: [{ ...suggestion(1), statut: 'PEUTETRE' }], next_cursor: null, total: 1 })],
      ['an id that is not whole', () => ({ items: [{ ...suggestion(1), id: 1.5 }], next_cursor: null, total: 1 })],
      // zod's serializer dropped it silently; here the answer would carry it: refused.
      ['a key the schema does not name', () => ({ items: [{ ...suggestion(1), secret: 'x' }], next_cursor: null, total: 1 })],
      ['no next_cursor', () => ({ items: [], total: 0 })],
    ];
    for (const [what, answer] of wrong) {
      const app = await appAnswering(answer);
      const res = await app.inject({ method: 'GET', url: '/page' });
      assert.equal(res.statusCode, 500, `${what}: ${res.body}`);
      assert.doesNotMatch(res.body, /PEUTETRE|secret|corrigé/, what);
      await app.close();
    }
  });

  test("other statuses go through zod's serializer (which drops unnamed keys)", async () => {
    const app = await appAnswering(() => ({ error: 'not_found', detail: 'dropped by zod' }), 404);
    const res = await app.inject({ method: 'GET', url: '/page' });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.body, '{"error":"not_found"}');
    await app.close();
  });

  test('a schema JSON Schema cannot say (a transform, a date, a refinement) fails when the app starts', async () => {
    const refusals: [z.ZodType, RegExp][] = [
      [z.object({ n: z.string().transform((s) => s.length) }), /cannot be represented in JSON Schema/],
      [z.object({ at: z.date() }), /cannot be represented in JSON Schema/],
      [z.object({ n: z.number().refine((n) => n % 2 === 0, 'must be even') }), /checks JSON Schema cannot state: custom/],
    ];
    for (const [schema, why] of refusals) {
      const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      app.get('/x', { schema: { response: { 200: schema } }, serializerCompiler: contractSerializer, handler: async () => ({ n: 1, at: new Date() }) });
      await assert.rejects(async () => app.ready(), why);
      await app.close();
    }
  });
});

describe('response contract (the serializer of a body built ahead, api/response-cache.ts)', () => {
  test("an answer that fits is zod's JSON byte for byte; one that does not throws a ZodError", () => {
    const contract = responseContract(SuggestionPageSchema);
    const page: Page = { items: [suggestion(1), suggestion(2)], next_cursor: null, total: 2 };
    assert.equal(contract(page), JSON.stringify(z.encode(SuggestionPageSchema, page)));
    for (const wrong of [{ ...page, total: 'two' }, { items: page.items, total: 2 }, { ...page, items: [{ ...suggestion(1), statut: 'PEUTETRE' }] }]) {
      assert.throws(() => contract(wrong as Page), z.ZodError);
    }
  });

  test('a schema JSON Schema cannot say is serialized through zod: its refinement runs, its transform applies', () => {
    const even = responseContract(z.object({ n: z.number().refine((n) => n % 2 === 0, 'must be even') }));
    assert.equal(even({ n: 2 }), '{"n":2}');
    assert.throws(() => even({ n: 3 }), z.ZodError);
    const trimmed = responseContract(z.object({ name: z.string().trim() }));
    assert.equal(trimmed({ name: ' Lyon ' }), JSON.stringify(z.encode(z.object({ name: z.string().trim() }), { name: ' Lyon ' })));
    const codec = z.object({ at: z.codec(z.iso.datetime(), z.date(), { decode: (s) => new Date(s), encode: (d) => d.toISOString() }) });
    assert.equal(responseContract(codec)({ at: new Date('2026-12-07T10:00:00Z') }), '{"at":"2026-12-07T10:00:00.000Z"}');
  });
});
