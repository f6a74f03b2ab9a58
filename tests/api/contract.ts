/**
 * The contract test's instrument: every response a test receives is checked against the OpenAPI
 * document the app itself publishes (/docs/json) — its status must be declared for the operation, its
 * content type too, and a JSON body must validate against the declared schema (ajv, JSON Schema 2020-12
 * as OpenAPI 3.1 uses). It also records which operations were exercised, so a test can require all.
 */
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ZodApp } from '../../api/context';

interface Operation {
  method: string;
  path: string;
  regex: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export class Contract {
  private readonly ops: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly doc: { paths: Record<string, Record<string, Operation['responses'] extends infer R ? { responses: R } : never>>; components?: { schemas?: Record<string, unknown> } }) {
    (addFormats as unknown as (a: Ajv2020) => void)(this.ajv);
    // The whole document as one schema resource: `#/components/schemas/…` refs resolve inside it.
    this.ajv.addSchema({ $id: 'openapi', ...(doc as object) } as object);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const regex = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        this.ops.push({ method: method.toUpperCase(), path, regex, responses: op.responses });
      }
    }
  }

  static async of(app: ZodApp): Promise<Contract> {
    const res = await app.inject({ url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    return new Contract(res.json());
  }

  operationOf(method: string, url: string): Operation | undefined {
    const path = url.split('?')[0]!;
    // Literal paths first: /consultations/search must not be taken for /consultations/{org}/{ref}.
    return this.ops.filter((o) => o.method === method && o.regex.test(path)).sort((a, b) => a.path.split('{').length - b.path.split('{').length)[0];
  }

  private validator(op: Operation, status: number, type: string): ValidateFunction {
    const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
    const pointer = `openapi#/paths/${esc(op.path)}/${op.method.toLowerCase()}/responses/${status}/content/${esc(type)}/schema`;
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: pointer });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /** Throws when the response breaks the document. */
  check(method: string, url: string, res: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
    const op = this.operationOf(method, url);
    assert.ok(op, `${method} ${url} is not in the OpenAPI document`);
    const declared = op.responses[String(res.statusCode)];
    assert.ok(declared, `${method} ${op.path} answered ${res.statusCode}, which the document does not declare (declared: ${Object.keys(op.responses).join(', ')}): ${res.body.slice(0, 200)}`);
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const content = declared.content ?? {};
    if (type === 'application/json') {
      assert.ok(content['application/json']?.schema, `${method} ${op.path} ${res.statusCode}: JSON body but no JSON schema declared`);
      const validate = this.validator(op, res.statusCode, 'application/json');
      const body: unknown = JSON.parse(res.body);
      assert.ok(validate(body), `${method} ${op.path} ${res.statusCode} breaks its schema: ${this.ajv.errorsText(validate.errors)}\n${res.body.slice(0, 300)}`);
    } else if (Object.keys(content).length > 0 && !content['application/octet-stream']) {
      assert.ok(content[type], `${method} ${op.path} ${res.statusCode}: content type ${type} not declared (declared: ${Object.keys(content).join(', ')})`);
    }
    const key = `${op.method} ${op.path}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)!.add(res.statusCode);
  }

  /** `app.inject` whose response is checked against the document. */
  async inject(app: ZodApp, opts: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const res = await app.inject(opts);
    this.check(opts.method ?? 'GET', opts.url, { statusCode: res.statusCode, headers: res.headers, body: res.body });
    return res;
  }

  operations(): string[] {
    return this.ops.map((o) => `${o.method} ${o.path}`);
  }
}
