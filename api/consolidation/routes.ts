/**
 * `/api/v1/consolidation/…`: reviewing the consolidation pipeline's suggestions and controlling its
 * runs. The rules live in activities/consolidation/review (decisions, filters, pages) and
 * activities/consolidation/runs (run kinds, ids, status), which the CLI uses too; this file maps HTTP
 * onto them and their error types onto statuses. Writes (decisions, run starts) are signed.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import {
  decide,
  decideOne,
  DecisionByFilterSchema,
  DecisionByIdsSchema,
  getCohort,
  getSuggestion,
  listCohorts,
  listSuggestions,
  ReviewInputError,
  ReviewNotFoundError,
  ReviewStateError,
  CohortListInputSchema,
  SuggestionListInputSchema,
  DECISIONS,
} from '../../activities/consolidation/review';
import {
  CONSOLIDATION_RUN_KINDS,
  CONSOLIDATION_RUNS,
  databaseStatus,
  defaultClusterConfig,
  describeRun,
  listRuns,
  RUN_STATUSES,
  RunAlreadyRunningError,
  RunInputError,
  RunNotFoundError,
  startRun,
  type ConsolidationRunKind,
} from '../../activities/consolidation/runs';
import { EXPORT_CONTENT_TYPES, exportFile, ExportFileSchema, ExportListSchema, listExports, PublishedInputError, PublishedNotFoundError, StatsQuerySchema, weeklyStats } from '../../activities/consolidation/publish/read';
import { SUGGESTION_STATUTS } from '../../schema/consolidation/tables';
import type { ApiContext, ZodApp } from '../context';
import { contractSerializer } from '../contract-serializer';
import { badRequest, commonErrors, conflict, ErrorSchema, notFound, unavailable, type Issue } from '../errors';

const V1 = '/api/v1/consolidation';

const signedHeaders = z.object({
  'x-timestamp': z.string().optional().describe('unix time in seconds'),
  'x-signature': z.string().optional().describe('hex HMAC-SHA256 of "<X-Timestamp>.<raw body>" with the shared secret'),
});

const counts = z.record(z.string(), z.number().int());

const CohortSchema = z
  .object({
    id: z.number().int(),
    identifiant_action: z.string(),
    identifiant_execution: z.string(),
    type_action: z.string(),
    statut: z.string(),
    source_code: z.string().nullable(),
    colonnes: z.record(z.string(), z.tuple([z.number().int(), z.number().int(), z.number().int()])).describe('per column [MODIF, SUP, AJOUT], as the diff counted them'),
    suggestions: counts.describe('suggestions per status'),
    total: z.number().int(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ConsolidationCohort' });

const CohortDetailSchema = CohortSchema.extend({ champs: counts.describe('suggestions whose changes set each field') }).meta({ id: 'ConsolidationCohortDetail' });

const SuggestionSchema = z
  .object({
    id: z.number().int(),
    cohorte_id: z.number().int(),
    cle: z.string(),
    statut: z.enum(SUGGESTION_STATUTS),
    contexte: z.record(z.string(), z.unknown()).nullable(),
    changes: z.array(z.unknown()).describe('ordered changes {order, reason, model_name, model_params}'),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'ConsolidationSuggestion' });

/** A page of the review grid (exported: tests compare its serializer with zod's). */
export const SuggestionPageSchema = z.object({ items: z.array(SuggestionSchema), next_cursor: z.string().nullable(), total: z.number().int().nullable().describe('null with count=false') });

const SuggestionDetailSchema = SuggestionSchema.extend({
  logs: z.array(z.object({ niveau: z.string(), fonction: z.string(), message: z.string(), auteur: z.string().nullable(), identifiant_execution: z.string(), created_at: z.string() })),
}).meta({ id: 'ConsolidationSuggestionDetail' });

const DecisionResultSchema = z
  .object({
    decision_id: z.string().describe('the identifiant_execution of its logs'),
    decision: z.enum(DECISIONS),
    statut: z.enum(SUGGESTION_STATUTS),
    changed: z.number().int(),
    refused_total: z.number().int(),
    refused: z.array(z.object({ id: z.number().int(), statut: z.enum(SUGGESTION_STATUTS) })).describe('the first 100 left as they were, with their status'),
    missing: z.array(z.number().int()),
  })
  .meta({ id: 'ConsolidationDecision' });

const RunViewSchema = z
  .object({
    workflow_type: z.string(),
    workflow_id: z.string(),
    run_id: z.string(),
    status: z.enum(RUN_STATUSES),
    started_at: z.string().nullable(),
    closed_at: z.string().nullable(),
    result: z.unknown().optional(),
    failure: z.string().optional().describe("a failed run's root cause as one line"),
    root_cause: z
      .object({ type: z.string(), message: z.string(), activity: z.string().optional().describe('the activity that raised it (absent: the workflow itself)') })
      .optional()
      .describe('the innermost failure of a failed run'),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ConsolidationRun' });

const StatsRowSchema = z.object({
  source_code: z.string().describe("a source, or '*' for all of them"),
  acteurs: z.number().int(),
  acteurs_actifs: z.number().int(),
  revisions: z.number().int(),
  parents: z.number().int(),
  enfants: z.number().int(),
  affiches_carte: z.number().int(),
  affiches_opendata: z.number().int(),
  avec_siret: z.number().int(),
  avec_siren: z.number().int(),
  suggestions_en_attente: z.number().int(),
});

const ExportSchema = z
  .object({
    semaine: z.string(),
    format: z.enum(['csv', 'geojson']),
    lignes: z.number().int().describe('rows, counted back from the file when it was written'),
    octets: z.number().int(),
    sha256: z.string(),
    exporte_le: z.string(),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ConsolidationExport' });

/** The review module's and run module's errors as HTTP answers. */
async function answer<T>(where: Issue['in'], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ReviewInputError || err instanceof RunInputError || err instanceof PublishedInputError) throw badRequest(err.issues.map((i) => ({ in: where, field: i.field, problem: i.problem })));
    if (err instanceof ReviewNotFoundError || err instanceof RunNotFoundError || err instanceof PublishedNotFoundError) throw notFound(err.message);
    if (err instanceof ReviewStateError) throw conflict(err.message);
    if (err instanceof RunAlreadyRunningError) throw conflict(`${err.message}; see ${V1}/runs/${encodeURIComponent(err.workflowId)}`);
    throw err;
  }
}

export function consolidationRoutes(app: ZodApp, ctx: ApiContext, signed: { preValidation: NonNullable<Parameters<ZodApp['post']>[1]['preValidation']> }): void {
  const tags = ['consolidation'];
  const db = { sql: ctx.db.sql };
  const runLinks = (workflowId: string) => ({
    self: `${V1}/runs/${encodeURIComponent(workflowId)}`,
    temporal_ui: `${ctx.temporalUiUrl}/namespaces/${encodeURIComponent(ctx.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`,
  });
  const cohortLinks = (id: number) => ({ self: `${V1}/cohorts/${id}`, suggestions: `${V1}/cohorts/${id}/suggestions` });
  async function client(): Promise<Client> {
    try {
      return await ctx.temporal();
    } catch (err) {
      throw unavailable(`Temporal is unreachable: ${(err as Error).message}`);
    }
  }

  app.get(`${V1}/cohorts`, {
    schema: {
      tags,
      summary: 'Suggestion cohorts, newest first, with per-column MODIF/SUP/AJOUT counts and suggestions per status',
      querystring: CohortListInputSchema,
      response: { 200: z.object({ items: z.array(CohortSchema), next_cursor: z.string().nullable() }), ...commonErrors },
    },
    handler: async (req) =>
      answer('query', async () => {
        const page = await listCohorts(db, req.query);
        return { items: page.items.map((c) => ({ ...c, links: cohortLinks(c.id) })), next_cursor: page.next_cursor };
      }),
  });

  const cohortParams = z.strictObject({ id: z.coerce.number({ error: 'must be a cohort id' }).int('must be a cohort id').positive('must be a cohort id') });

  app.get(`${V1}/cohorts/:id`, {
    schema: { tags, summary: 'One cohort, with the fields its suggestions set', params: cohortParams, response: { 200: CohortDetailSchema, 404: ErrorSchema, ...commonErrors } },
    handler: async (req) =>
      answer('path', async () => {
        const c = await getCohort(db, req.params.id);
        return { ...c, links: cohortLinks(c.id) };
      }),
  });

  app.get(`${V1}/cohorts/:id/suggestions`, {
    schema: {
      tags,
      summary: "A cohort's suggestions in id order, filtered, by keyset pages",
      description: '`statut` takes one status or several (repeated or comma-separated); `champ` keeps suggestions whose changes set that field; `total` counts everything the filter matches (`count=false` skips it); `offset` instead of `cursor` jumps to any page.',
      params: cohortParams,
      querystring: SuggestionListInputSchema.omit({ cohorte_id: true }),
      response: { 200: SuggestionPageSchema, 404: ErrorSchema, ...commonErrors },
    },
    // The review grid's pages of 1,000 rows: checked by ajv, not copied through zod (api/contract-serializer.ts).
    serializerCompiler: contractSerializer,
    handler: async (req) => answer('query', () => listSuggestions(db, { ...req.query, cohorte_id: req.params.id })),
  });

  app.get(`${V1}/suggestions/:id`, {
    schema: { tags, summary: 'One suggestion with its history (decisions, who, when)', params: cohortParams, response: { 200: SuggestionDetailSchema, 404: ErrorSchema, ...commonErrors } },
    handler: async (req) => answer('path', () => getSuggestion(db, req.params.id)),
  });

  const OneDecisionBody = z.strictObject({ par: z.string().describe('who decides'), raison: z.string().optional().describe('why (kept in the log)') });
  for (const decision of DECISIONS) {
    const verb = decision === 'accept' ? 'Accept' : 'Reject';
    app.post(`${V1}/suggestions/:id/${decision}`, {
      preValidation: signed.preValidation,
      schema: {
        tags,
        summary: `${verb} one suggestion (signed request)`,
        description: decision === 'accept' ? 'AVALIDER or REJETEE → ATRAITER (the apply Schedule takes it); any other status answers 409.' : 'AVALIDER or ATRAITER → REJETEE; any other status answers 409.',
        headers: signedHeaders,
        params: cohortParams,
        body: OneDecisionBody,
        response: { 200: DecisionResultSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, ...commonErrors },
      },
      handler: async (req) => {
        const result = await answer('body', () => decideOne(db, { id: req.params.id, decision, par: req.body.par, ...(req.body.raison ? { raison: req.body.raison } : {}) }));
        req.log.info({ decision, suggestion: req.params.id, par: req.body.par, decisionId: result.decision_id }, 'consolidation suggestion decided');
        return result;
      },
    });

    app.post(`${V1}/suggestions/${decision}`, {
      preValidation: signed.preValidation,
      schema: {
        tags,
        summary: `${verb} many suggestions (signed request): a list of ids, or all a filter matches except some ids`,
        description:
          'Body `{par, raison?, ids: [...]}`, or `{par, raison?, filter: {cohorte_id, statut?, cle?, champ?, modele?}, except: [...]}` (one statement however many match). ' +
          'Suggestions in a status this decision does not move are left as they are and counted in `refused_total`.',
        headers: signedHeaders,
        body: z.union([DecisionByIdsSchema.omit({ decision: true }), DecisionByFilterSchema.omit({ decision: true })]),
        response: { 200: DecisionResultSchema, 403: ErrorSchema, 404: ErrorSchema, ...commonErrors },
      },
      handler: async (req) => {
        const result = await answer('body', () => decide(db, { ...req.body, decision } as Parameters<typeof decide>[1]));
        req.log.info({ decision, changed: result.changed, par: req.body.par, decisionId: result.decision_id }, 'consolidation suggestions decided');
        return result;
      },
    });
  }

  app.post(`${V1}/runs`, {
    preValidation: signed.preValidation,
    schema: {
      tags,
      summary: 'Start a consolidation run (signed request)',
      description: `A cluster run without \`config\` clusters every acteur type imported with QFDMOD's defaults. Kinds: ${CONSOLIDATION_RUN_KINDS.map((k) => `\`${k}\` → ${CONSOLIDATION_RUNS[k].contract.workflowType} (${CONSOLIDATION_RUNS[k].contract.description})`).join('; ')}. The same run while it goes answers 409.`,
      headers: signedHeaders,
      body: z.strictObject({ kind: z.enum(CONSOLIDATION_RUN_KINDS as [ConsolidationRunKind, ...ConsolidationRunKind[]]), input: z.record(z.string(), z.unknown()).optional() }),
      response: {
        202: z.object({ kind: z.string(), workflow_type: z.string(), workflow_id: z.string(), run_id: z.string(), input: z.record(z.string(), z.unknown()), links: z.record(z.string(), z.string()) }),
        403: ErrorSchema,
        409: ErrorSchema,
        503: ErrorSchema,
        ...commonErrors,
      },
    },
    handler: async (req, reply) => {
      const c = await client();
      const started = await answer('body', async () => {
        try {
          let input = req.body.input ?? {};
          if (req.body.kind === 'cluster' && input.config === undefined) input = { ...input, config: await defaultClusterConfig(ctx.db.sql) };
          return await startRun(c, ctx.temporalTaskQueue, req.body.kind, input, ctx.now());
        } catch (err) {
          if (err instanceof RunInputError) throw new RunInputError(err.issues.map((i) => ({ ...i, field: `input.${i.field}` })));
          throw err;
        }
      });
      req.log.info({ kind: started.kind, workflowId: started.workflowId, runId: started.runId }, 'consolidation run started');
      return reply.code(202).send({
        kind: started.kind,
        workflow_type: started.workflowType,
        workflow_id: started.workflowId,
        run_id: started.runId,
        input: started.input,
        links: runLinks(started.workflowId),
      });
    },
  });

  app.get(`${V1}/runs`, {
    schema: {
      tags,
      summary: "The pipeline's recent runs (every kind, the Schedules' included), newest first",
      querystring: z.strictObject({ limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20) }),
      response: { 200: z.object({ items: z.array(RunViewSchema) }), 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req) => {
      const c = await client();
      return { items: (await listRuns(c, req.query.limit)).map((r) => ({ ...r, links: runLinks(r.workflow_id) })) };
    },
  });

  app.get(`${V1}/runs/:workflowId`, {
    schema: {
      tags,
      summary: 'One run: status, and its result or, once failed, its root cause (the innermost error and the activity that raised it)',
      params: z.strictObject({ workflowId: z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'must be a workflow id such as consolidation-ingest-refashion') }),
      response: { 200: RunViewSchema, 404: ErrorSchema, 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req) => {
      const c = await client();
      const run = await answer('path', () => describeRun(c, req.params.workflowId));
      return { ...run, links: runLinks(run.workflow_id) };
    },
  });

  app.get(`${V1}/stats`, {
    schema: {
      tags,
      summary: "A week's statistics per source (the latest week computed by default)",
      description: 'Written by the consolidationStats run (its Schedule on Monday mornings, or `POST /runs {kind: "stats"}`). 404 when that week has none.',
      querystring: StatsQuerySchema,
      response: {
        200: z.object({ semaine: z.string(), calcule_le: z.string(), sources: z.array(StatsRowSchema), semaines: z.array(z.string()).describe('weeks with statistics, newest first') }),
        404: ErrorSchema,
        ...commonErrors,
      },
    },
    handler: async (req) => answer('query', () => weeklyStats(ctx.db.sql, req.query)),
  });

  const exportLinks = (semaine: string, format: string) => ({ download: `${V1}/exports/${semaine}/${format}` });

  app.get(`${V1}/exports`, {
    schema: {
      tags,
      summary: 'The weekly open-data exports recorded (CSV and GeoJSON, openly licensed sources only), newest week first',
      querystring: ExportListSchema,
      response: { 200: z.object({ items: z.array(ExportSchema) }), ...commonErrors },
    },
    handler: async (req) => answer('query', async () => ({ items: (await listExports(ctx.db.sql, req.query)).map((e) => ({ ...e, links: exportLinks(e.semaine, e.format) })) })),
  });

  app.get(`${V1}/exports/:semaine/:format`, {
    schema: {
      tags,
      summary: "One week's open-data export file (or the latest week's), as it was written and checked",
      description:
        'Headers: X-Export-Week, X-Row-Count (rows counted back from the file when it was written), X-Sha256 (of the file), Content-Length. ' +
        '404 when there is no such export, or when its file is gone or no longer the size it was written.',
      params: ExportFileSchema,
      response: {
        200: { description: 'the file', content: { [EXPORT_CONTENT_TYPES.csv]: { schema: z.string() }, [EXPORT_CONTENT_TYPES.geojson]: { schema: z.string() } } },
        404: ErrorSchema,
        ...commonErrors,
      },
    },
    handler: async (req, reply) => {
      const file = await answer('path', () => exportFile(ctx.db.sql, req.params));
      void reply
        .header('content-type', `${EXPORT_CONTENT_TYPES[file.format]}; charset=utf-8`)
        .header('content-length', String(file.octets))
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('x-export-week', file.semaine)
        .header('x-row-count', String(file.lignes))
        .header('x-sha256', file.sha256);
      return reply.send(file.open() as never);
    },
  });

  app.get(`${V1}/status`, {
    schema: {
      tags,
      summary: 'What the pipeline holds: acteurs, revisions, cohorts and suggestions by status, sources',
      response: {
        200: z.object({
          acteurs: counts,
          revisions: z.number().int(),
          cohortes: counts,
          suggestions: counts,
          sources: z.array(z.object({ code: z.string(), acteurs: z.number().int(), updated_at: z.string().nullable() })),
        }),
        ...commonErrors,
      },
    },
    handler: async () => databaseStatus(ctx.db.sql),
  });
}
