/**
 * The environment a test worker needs to run every consolidation workflow on the replicas: the sources
 * (built-in declarations rewritten to the sources replica), the company registry and its SIRENE stock, and
 * an export folder of the test's own (never the shared `.data/exports`).
 */
import type { ConsolidationReplica } from './index';
import { SIRENE_STOCK_PATH, type EntreprisesReplica } from './entreprises/index';

export function consolidationWorkerEnv(sources: ConsolidationReplica, registry: EntreprisesReplica, exportDir: string): Record<string, string> {
  return {
    CONSOLIDATION_ENDPOINT_REWRITES: sources.rewrites,
    CONSOLIDATION_HTTP_TIMEOUT_MS: '5000',
    CONSOLIDATION_ENTREPRISES_URL: registry.url,
    CONSOLIDATION_SIRENE_URL: `${registry.url}${SIRENE_STOCK_PATH}`,
    CONSOLIDATION_EXPORT_DIR: exportDir,
  };
}
