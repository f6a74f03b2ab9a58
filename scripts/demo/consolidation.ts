/**
 * The demo's consolidation round, through `moisson consolidation …` as a user would type it: three
 * sources ingested from the local replica (two eco-organisme data-fair datasets and the CMA paged API),
 * their suggestions accepted and applied, the acteurs clustered across sources, the cluster suggestions
 * accepted and applied, the open-data export written; then the counts and where to look.
 */
import { connectPostgres } from '../../activities/engine/db';
import { listCohorts } from '../../activities/consolidation/review';
import { databaseStatus } from '../../activities/consolidation/runs';

export const DEMO_SOURCES = ['refashion', 'ecosystem', 'cma_reparacteur'] as const;

export interface ConsolidationDemoOptions {
  databaseUrl: string;
  /** `moisson <args…>` in this process (the CLI's main). */
  moisson(args: string[]): Promise<void>;
  /** Labels the cluster run: consolidation-cluster-<label>. */
  label: string;
}

/** Accepts every suggestion still waiting in cohorts of these types; returns how many cohorts. */
async function acceptWaiting(opts: ConsolidationDemoOptions, types: string[]): Promise<number> {
  const db = connectPostgres(opts.databaseUrl, { max: 1 });
  let cohorts: number[];
  try {
    const page = await listCohorts(db, { limit: 200 });
    cohorts = page.items.filter((c) => types.includes(c.type_action) && (c.suggestions.AVALIDER ?? 0) > 0).map((c) => c.id);
  } finally {
    await db.close();
  }
  for (const id of cohorts) await opts.moisson(['consolidation', 'suggestions', 'accept', '--all', '--cohort', String(id), '--statut', 'AVALIDER', '--by', 'demo', '--reason', 'npm run demo']);
  return cohorts.length;
}

export async function demoConsolidation(opts: ConsolidationDemoOptions, say: (line?: string) => void) {
  say(`demo: consolidation — ingesting ${DEMO_SOURCES.join(', ')} from the local replica of data.pointsapport.ademe.fr and artisanat.fr`);
  for (const source of DEMO_SOURCES) await opts.moisson(['consolidation', 'ingest', source, '--sync']);
  await opts.moisson(['consolidation', 'suggestions', 'list', '--limit', '10']);
  const sourceCohorts = await acceptWaiting(opts, ['SOURCE_AJOUT', 'SOURCE_MODIFICATION', 'SOURCE_SUPRESSION']);
  say(`demo: accepted the waiting suggestions of ${sourceCohorts} source cohort(s); applying them`);
  await opts.moisson(['consolidation', 'apply', '--sync']);
  say('demo: clustering duplicates across the sources (exact code_postal + ville, fuzzy nom + adresse)');
  await opts.moisson(['consolidation', 'cluster', '--label', opts.label, '--sync']);
  const clusterCohorts = await acceptWaiting(opts, ['CLUSTERING']);
  say(`demo: accepted the cluster suggestions of ${clusterCohorts} cohort(s); applying them`);
  await opts.moisson(['consolidation', 'apply', '--sync']);
  say('demo: the weekly open-data export (displayed acteurs refreshed, then CSV and GeoJSON of the openly licensed sources)');
  await opts.moisson(['consolidation', 'export', '--sync']);
  await opts.moisson(['consolidation', 'status']);
  const db = connectPostgres(opts.databaseUrl, { max: 1 });
  try {
    return await databaseStatus(db.sql);
  } finally {
    await db.close();
  }
}
