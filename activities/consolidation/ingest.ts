/**
 * One source's ingestion as activities: check its declaration, then download → normalise → validate →
 * diff against the stored acteurs → write the run's cohorts, suggestions and logs in one transaction
 * (a source that changed shape stops before anything is written; the stored state is untouched).
 */
import { Context } from '@temporalio/activity';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { ACTEUR_FIELDS, NormalizedActeurSchema, type NormalizedActeur } from '../../schema/consolidation/items';
import type { ConsolidationIngestConfig, ConsolidationS3Config } from '../../schema/config';
import { ConfigurationError, InvalidInputError, ResponseShapeError } from '../engine/errors';
import { items } from '../engine/metrics';
import type { RejectionReason } from '../engine/runs';
import { diffSource, DuplicateStoredKeyError, type StoredActeur } from './diff';
import { expectedColumns, normalizeRows, rowToActeur, SourceShapeError } from './normalize';
import { BUILT_IN_DECLARATIONS_DIR, DeclarationError, loadDeclarations, readSource, resolveProductMapping, resolveS3Bucket, urlResolver, type RawRow, type SourceDeclaration } from './sources';
import { sourceCohorts } from './suggestions';

export const IngestInputSchema = z.object({ source: z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'source must be a declared source code') }).strict();
export type IngestInput = z.infer<typeof IngestInputSchema>;

export interface IngestResult {
  source: string;
  rows: number;
  acteurs: number;
  dropped: number;
  warnings: number;
  cohorts: { type: string; id: number; suggestions: number }[];
  unchanged: number;
}

export interface IngestDeps {
  sql: Sql;
  config: ConsolidationIngestConfig;
  /** The S3 settings, read when an `s3` source is checked or read. */
  s3Config?: () => ConsolidationS3Config;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (pure tests): nothing to report to.
  }
}

export function findDeclaration(config: ConsolidationIngestConfig, code: string): SourceDeclaration {
  let all: Map<string, SourceDeclaration>;
  try {
    all = loadDeclarations(config.declarationsDir ?? BUILT_IN_DECLARATIONS_DIR);
  } catch (e) {
    if (e instanceof DeclarationError) throw new ConfigurationError(e.message, { where: e.where, issues: e.issues });
    throw e;
  }
  const declaration = all.get(code);
  if (!declaration) throw new InvalidInputError(`no source declaration named '${code}' (declared: ${[...all.keys()].join(', ')})`, { source: code });
  return declaration;
}

export async function downloadSource(declaration: SourceDeclaration, config: ConsolidationIngestConfig, s3Config?: () => ConsolidationS3Config): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  const deps = { timeoutMs: config.httpTimeoutMs, resolveUrl: urlResolver(config.endpointRewrites), ...(s3Config ? { s3Config } : {}) };
  for await (const batch of readSource(declaration.location, deps)) {
    rows.push(...batch);
    heartbeat({ phase: 'download', rows: rows.length });
  }
  const ignore = declaration.normalization.ignoreRowsWithNullOrEmptyFields;
  return ignore.length ? rows.filter((r) => ignore.every((c) => r[c] !== null && r[c] !== undefined && r[c] !== '')) : rows;
}

const STORED_COLUMNS = ['identifiant_unique', ...ACTEUR_FIELDS].map((c) => `"${c}"`).join(', ');

/** Checks the declaration (and every other one of the folder): refused at once, fields named. */
export async function consolidationCheckSource(deps: IngestDeps, input: IngestInput): Promise<{ source: string; kind: string }> {
  const { config } = deps;
  const { source } = IngestInputSchema.parse(input);
  const d = findDeclaration(config, source);
  if (d.location.kind === 's3') {
    // The server's settings and the bucket are configuration: refused here, before any retry.
    if (!deps.s3Config) throw new ConfigurationError(`source ${source} is an s3 source, but no S3 settings were given to the worker`, { source });
    resolveS3Bucket(d.location, deps.s3Config());
  }
  return { source: d.code, kind: d.location.kind };
}

export async function consolidationIngestSource(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const { sql, config } = deps;
  const { source } = IngestInputSchema.parse(input);
  const runId = Context.current().info.workflowExecution?.runId ?? Context.current().info.activityId;
  const d = findDeclaration(config, source);
  const raw = await downloadSource(d, config, deps.s3Config);
  heartbeat({ phase: 'normalize', rows: raw.length });
  let normalized;
  try {
    normalized = normalizeRows(raw, d.normalization.rules, {
      productMapping: resolveProductMapping(d),
      ...(d.normalization.dechetMapping ? { dechetMapping: d.normalization.dechetMapping } : {}),
      labelBonusReparation: d.normalization.labelBonusReparation ?? null,
      returnableObjects: d.normalization.returnableObjects,
    });
  } catch (e) {
    if (e instanceof SourceShapeError) throw new ResponseShapeError(`source ${source} changed shape: ${e.message}`, { source, missing: e.missing, extra: e.extra });
    throw e;
  }
  if (raw.length > 0 && normalized.rows.length === 0) throw new ResponseShapeError(`source ${source}: no acteur left after normalisation (${raw.length} rows read)`, { source });
  heartbeat({ phase: 'validate', acteurs: normalized.rows.length });
  const acteurs: NormalizedActeur[] = normalized.rows.map((row, i) => {
    const parsed = NormalizedActeurSchema.safeParse(rowToActeur(row, d.code));
    if (!parsed.success) throw new ResponseShapeError(`source ${source}: normalised row ${i} is not a valid acteur: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`, { source });
    return parsed.data;
  });
  const columns = [...new Set([...expectedColumns(d.normalization.rules), 'statut'])].filter((c) => (ACTEUR_FIELDS as string[]).includes(c));
  const sourceCodes = [...new Set([d.code, ...acteurs.map((a) => a.source_code)])];

  const result = await sql.begin(async (tx) => {
    await tx`insert into consolidation.sources (code, libelle, url, licence, priority, declaration, updated_at)
      values (${d.code}, ${d.libelle}, ${d.url ?? null}, ${d.licence}, ${d.priority}, ${JSON.stringify(d)}::jsonb, now())
      on conflict (code) do update set libelle = excluded.libelle, url = excluded.url, licence = excluded.licence, priority = excluded.priority, declaration = excluded.declaration, updated_at = now()`;
    const stored = (await tx.unsafe(`select ${STORED_COLUMNS} from consolidation.acteurs where source_code = any($1)`, [sourceCodes])) as unknown as StoredActeur[];
    heartbeat({ phase: 'diff', stored: stored.length });
    let diff;
    try {
      diff = diffSource(d.code, acteurs, stored, columns);
    } catch (e) {
      if (e instanceof DuplicateStoredKeyError) throw new ConfigurationError(`source ${source}: ${e.message}`, { source });
      throw e;
    }
    const identifiantAction = `source_${d.code}`;
    const cohorts: IngestResult['cohorts'] = [];
    for (const cohort of sourceCohorts(diff)) {
      if (cohort.suggestions.length === 0) continue;
      const meta = { ...cohort.metadata, ...normalized.metadata };
      const [row] = await tx<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, source_code, metadata)
        values (${identifiantAction}, ${runId}, ${cohort.type}, ${d.code}, ${JSON.stringify(meta)}::jsonb)
        on conflict (identifiant_action, identifiant_execution, type_action) do update set metadata = excluded.metadata, updated_at = now()
        returning id`;
      const cohortId = Number(row!.id);
      for (let i = 0; i < cohort.suggestions.length; i += 500) {
        const chunk = cohort.suggestions.slice(i, i + 500).map((s) => ({ cohorte_id: cohortId, cle: s.cle, contexte: s.contexte, changes: s.changes, metadata: s.metadata }));
        await tx`insert into consolidation.suggestions (cohorte_id, cle, contexte, changes, metadata)
          select (x->>'cohorte_id')::bigint, x->>'cle', x->'contexte', x->'changes', x->'metadata' from jsonb_array_elements(${JSON.stringify(chunk)}::jsonb) x
          on conflict (cohorte_id, cle) do nothing`;
        heartbeat({ phase: 'write', cohort: cohort.type, written: i + chunk.length });
      }
      cohorts.push({ type: cohort.type, id: cohortId, suggestions: cohort.suggestions.length });
    }
    await tx`delete from consolidation.suggestion_logs where identifiant_execution = ${runId} and source_code = ${d.code}`;
    const firstCohort = cohorts[0]?.id ?? null;
    for (let i = 0; i < normalized.logs.length; i += 1000) {
      const chunk = normalized.logs.slice(i, i + 1000);
      await tx`insert into consolidation.suggestion_logs (cohorte_id, identifiant_execution, source_code, identifiant_unique, ligne, niveau, fonction, origine_colonnes, origine_valeurs, destination_colonnes, message)
        select ${firstCohort}, ${runId}, ${d.code}, x->>'identifiantUnique', (x->>'ligne')::int, x->>'niveau', x->>'fonction',
          array(select jsonb_array_elements_text(x->'origineColonnes')), x->'origineValeurs', array(select jsonb_array_elements_text(x->'destinationColonnes')), x->>'message'
        from jsonb_array_elements(${JSON.stringify(chunk)}::jsonb) x`;
    }
    return {
      source: d.code,
      rows: raw.length,
      acteurs: acteurs.length,
      dropped: normalized.metadata.lignes_en_erreur,
      warnings: normalized.logs.filter((l) => l.niveau === 'WARNING').length,
      cohorts,
      unchanged: diff.unchanged,
    };
  });
  // Counted once committed (a rolled-back attempt counts nothing), as the other pipelines count theirs.
  const labels = { pipeline: 'consolidation', kind: 'acteur' };
  items().add(result.rows, { ...labels, result: 'scraped' });
  items().add(result.acteurs, { ...labels, result: 'parsed' });
  // Rows normalisation dropped: a value its rules refuse (the lines are in consolidation.suggestion_logs).
  if (result.dropped > 0) items().add(result.dropped, { ...labels, result: 'rejected', reason: 'invalid_field' satisfies RejectionReason });
  const suggested = result.cohorts.reduce((n, c) => n + c.suggestions, 0);
  if (suggested > 0) items().add(suggested, { pipeline: 'consolidation', kind: 'suggestion', result: 'suggested' });
  return result;
}
