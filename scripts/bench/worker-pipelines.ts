/**
 * Every pipeline once, as `npm run demo` runs them, on a worker of the bench's own task queue and its
 * throwaway databases: the pmmp daily run (a day a month back), a leads search job with its validation and
 * MailWizz sync, the Pennylane sync full then incremental, a consolidation round (three sources ingested,
 * accepted, applied, clustered, applied, BAN enrichment, applied, the weekly export). Runs are started
 * under workflow ids of the bench's own (prefixed by the task queue), never the contracts' ids, so none
 * attaches to a run of the stack's worker. The prices run is the caller's (`worker.memory.afterRun`).
 */
import type { Client } from '@temporalio/client';
import { connectPostgres } from '../../activities/engine/db';
import { decide, listCohorts } from '../../activities/consolidation/review';
import { defaultClusterConfig } from '../../activities/consolidation/runs';
import { createJob } from '../../control/leads-jobs';
import { type InputOf, type ResultOf, type WorkflowContract } from '../../workflows/contracts';
import { apisyncRunContract } from '../../workflows/apisync/contract';
import {
  consolidationApplyContract,
  consolidationClusterContract,
  consolidationEnrichContract,
  consolidationExportContract,
  consolidationIngestContract,
} from '../../workflows/consolidation/contract';
import { leadsSyncMailwizzContract, leadsValidateContract } from '../../workflows/leads/contract';
import { pmmpDailyContract } from '../../workflows/pmmp/contract';
import { round, withDeadline } from './support';

const SOURCES = ['refashion', 'ecosystem', 'cma_reparacteur'] as const;

export interface PipelineRun {
  name: string;
  seconds: number;
  /** A few of the run's numbers, to show it did work (not an empty run). */
  summary: string;
}

export async function runEveryPipeline(opts: {
  client: Client;
  taskQueue: string;
  databaseUrl: string;
  log: (line: string) => void;
}): Promise<PipelineRun[]> {
  const { client, taskQueue, log } = opts;
  const runs: PipelineRun[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>, summary: (r: T) => string): Promise<T> => {
    const t = performance.now();
    const r = await withDeadline(fn(), 900_000, `${name} on the bench worker`);
    const run = { name, seconds: round((performance.now() - t) / 1000, 1), summary: summary(r) };
    log(`  ${name}: ${run.summary} in ${run.seconds} s`);
    runs.push(run);
    return r;
  };
  const execute = <C extends WorkflowContract>(c: C, raw: unknown, suffix: string): Promise<ResultOf<C>> => {
    const input = c.withDefaults(c.input.parse(raw ?? {}), new Date()) as InputOf<C>;
    return client.workflow.execute<(input: InputOf<C>) => Promise<ResultOf<C>>>(c.workflowType, {
      taskQueue,
      workflowId: `${taskQueue}-${suffix}`,
      args: [input],
    });
  };
  const counts = (r: unknown) => JSON.stringify(r).slice(0, 160);

  // A day a month back: its consultations are closed, so the replica has published their notices too.
  const day = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  await timed('pmmpDaily', () => execute(pmmpDailyContract, { day }, 'pmmp-daily'), counts);

  const pg = connectPostgres(opts.databaseUrl, { max: 2 });
  try {
    await timed(
      'leadsJob (search)',
      async () => {
        const job = await createJob(
          { client, sql: pg.sql, taskQueue, browserTaskQueue: `${taskQueue}-no-browser` },
          { sourceType: 'search', config: { queries: ['boulangerie'], refetch: true } },
        );
        return client.workflow.result(job.workflowId) as Promise<{ status: string; counts: Record<string, number> }>;
      },
      (r) => `${r.status} ${counts(r.counts)}`,
    );
    await timed('leadsValidate', () => execute(leadsValidateContract, {}, 'leads-validate'), counts);
    await timed('leadsSyncMailwizz', () => execute(leadsSyncMailwizzContract, {}, 'leads-sync'), counts);

    await timed('apisyncRun full', () => execute(apisyncRunContract, { source: 'pennylane', mode: 'full' }, 'apisync-full'), (r) => `${r.outcome}`);
    await timed('apisyncRun incremental', () => execute(apisyncRunContract, { source: 'pennylane', mode: 'incremental' }, 'apisync-incremental'), (r) => `${r.outcome}`);

    const acceptWaiting = async (types: string[]) => {
      const page = await listCohorts(pg, { limit: 200 });
      const cohorts = page.items.filter((c) => types.includes(c.type_action) && (c.suggestions.AVALIDER ?? 0) > 0);
      for (const c of cohorts) await decide(pg, { decision: 'accept', par: 'bench', filter: { cohorte_id: c.id, statut: ['AVALIDER'] }, except: [] });
      return cohorts.length;
    };
    for (const source of SOURCES) {
      await timed(`consolidationIngest ${source}`, () => execute(consolidationIngestContract, { source }, `consolidation-ingest-${source}`), counts);
    }
    let applies = 0;
    const apply = () => timed('consolidationApply', () => execute(consolidationApplyContract, {}, `consolidation-apply-${++applies}`), counts);
    await acceptWaiting(['SOURCE_AJOUT', 'SOURCE_MODIFICATION', 'SOURCE_SUPRESSION']);
    await apply();
    const config = await defaultClusterConfig(pg.sql);
    await timed('consolidationCluster', () => execute(consolidationClusterContract, { label: 'bench', config }, 'consolidation-cluster'), counts);
    await acceptWaiting(['CLUSTERING']);
    await apply();
    await timed('consolidationEnrich ban', () => execute(consolidationEnrichContract, { kind: 'ban' }, 'consolidation-enrich-ban'), counts);
    if ((await acceptWaiting(['ENRICH_ACTEURS_CP', 'ENRICH_ACTEURS_VILLES'])) > 0) await apply();
    await timed('consolidationExport', () => execute(consolidationExportContract, {}, 'consolidation-export'), counts);
  } finally {
    await pg.close();
  }
  return runs;
}
