/** Activities of the consolidation pipeline (ingestion, enrichment, apply, clustering, publishing), built from the process's connections. */
import type { Sql } from 'postgres';
import { ConfigError, loadConsolidationEnrichConfig, loadConsolidationIngestConfig, loadConsolidationS3Config } from '../../schema/config';
import { activity, ConfigurationError } from '../engine/errors';
import { createConsolidationApplyActivities } from './apply';
import { createClusterActivities } from './cluster/activity';
import { createPgClusterStore } from './cluster/store';
import { createEnrichActivities } from './enrich/run';
import { createConsolidationPublishActivities } from './publish';
import { createConsolidationIngestActivities } from './ingest';

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

export function createConsolidationActivities(deps: ConsolidationDeps) {
  // Read per call: a bad consolidation setting fails this pipeline's runs, not the worker.
  const configured = <T>(load: (env?: Record<string, string | undefined>) => T) => (): T => {
    try {
      return load(deps.env);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigurationError(e.message, { issues: e.issues });
      throw e;
    }
  };
  const config = configured(loadConsolidationIngestConfig);
  const s3Config = configured(loadConsolidationS3Config);
  const ingest = {
    consolidationCheckSource: (input: Parameters<ReturnType<typeof createConsolidationIngestActivities>['consolidationCheckSource']>[0]) =>
      createConsolidationIngestActivities({ sql: deps.sql, config: config(), s3Config }).consolidationCheckSource(input),
    consolidationIngestSource: (input: Parameters<ReturnType<typeof createConsolidationIngestActivities>['consolidationIngestSource']>[0]) =>
      createConsolidationIngestActivities({ sql: deps.sql, config: config(), s3Config }).consolidationIngestSource(input),
  };
  const apply = createConsolidationApplyActivities({ sql: deps.sql, ...(deps.afterClaim ? { afterClaim: deps.afterClaim } : {}) });
  const enrich = createEnrichActivities({ sql: deps.sql, config: configured(loadConsolidationEnrichConfig) });
  const cluster = createClusterActivities(createPgClusterStore(deps.sql));
  const publish = createConsolidationPublishActivities({ sql: deps.sql, ...(deps.env ? { env: deps.env } : {}) });
  const all = { ...ingest, ...apply, ...enrich, ...cluster, ...publish };
  return Object.fromEntries(Object.entries(all).map(([name, fn]) => [name, activity(fn as (...a: unknown[]) => Promise<unknown>)])) as typeof all;
}

export type ConsolidationActivities = ReturnType<typeof createConsolidationActivities>;
