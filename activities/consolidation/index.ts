/**
 * Activities of the consolidation pipeline (ingestion, enrichment, apply, clustering, publishing): plain
 * `(deps, input)` functions of their files, bound here to the process's connections.
 */
import type { Sql } from 'postgres';
import { loadConsolidationEnrichConfig, loadConsolidationIngestConfig, loadConsolidationS3Config } from '../../schema/config';
import { bindActivities } from '../engine/bind';
import { pipelineConfig } from '../engine/pipeline-config';
import { consolidationApplyActivities } from './apply';
import { consolidationClusterActivities } from './cluster/activity';
import { createPgClusterStore } from './cluster/store';
import { consolidationEnrichActivities, type EnrichDeps } from './enrich/run';
import { consolidationPublishActivities } from './publish';
import * as ingest from './ingest';
import type { IngestDeps, IngestInput, IngestResult } from './ingest';

export type { IngestInput, IngestResult } from './ingest';
export type { ApplyBatchResult } from './apply';
export type { EnrichKind, EnrichPageInput, EnrichPageResult } from './enrich/run';
export type { SireneLoadResult } from './enrich/sirene';
export type { ClusterActivityInput, ClusterActivityResult } from './cluster/activity';
export type { CleanupResult, ExportFileResult, PublishResult, StatsResult } from './publish';

export interface ConsolidationDeps {
  sql: Sql;
  /** The environment the consolidation settings are read from (the worker's own by default). */
  env?: Record<string, string | undefined>;
  /** Test hook: runs between a suggestion's claim (ENCOURS) and its changes. */
  afterClaim?: (suggestionId: number) => Promise<void>;
}

// Read when called (see pipelineConfig); a thunk where ingest.ts reads it only when it needs it.
function configured<T>(deps: ConsolidationDeps, load: (env?: Record<string, string | undefined>) => T): () => T {
  return () => pipelineConfig(load, deps.env);
}

/** The ingestion settings of one call (ingest.ts takes them read). */
function ingestDeps(deps: ConsolidationDeps): IngestDeps {
  return { sql: deps.sql, config: configured(deps, loadConsolidationIngestConfig)(), s3Config: configured(deps, loadConsolidationS3Config) };
}

export async function consolidationCheckSource(deps: ConsolidationDeps, input: IngestInput): Promise<{ source: string; kind: string }> {
  return ingest.consolidationCheckSource(ingestDeps(deps), input);
}

export async function consolidationIngestSource(deps: ConsolidationDeps, input: IngestInput): Promise<IngestResult> {
  return ingest.consolidationIngestSource(ingestDeps(deps), input);
}

/** The consolidation activities as the worker registers them: the only place their deps are closed over. */
export function bindConsolidationActivities(deps: ConsolidationDeps) {
  const enrich: EnrichDeps = { sql: deps.sql, config: configured(deps, loadConsolidationEnrichConfig) };
  return {
    ...bindActivities(deps, { consolidationCheckSource, consolidationIngestSource }),
    ...bindActivities({ sql: deps.sql, ...(deps.afterClaim ? { afterClaim: deps.afterClaim } : {}) }, consolidationApplyActivities),
    ...bindActivities(enrich, consolidationEnrichActivities),
    ...bindActivities({ store: createPgClusterStore(deps.sql) }, consolidationClusterActivities),
    ...bindActivities({ sql: deps.sql, ...(deps.env ? { env: deps.env } : {}) }, consolidationPublishActivities),
  };
}

export type ConsolidationActivities = ReturnType<typeof bindConsolidationActivities>;
