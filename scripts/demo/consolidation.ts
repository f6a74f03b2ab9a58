/**
 * The demo's consolidation round, through `moisson consolidation …` as a user would type it: three
 * sources ingested from the local replica (two eco-organisme data-fair datasets and the CMA paged API),
 * their suggestions accepted and applied, the acteurs clustered across sources, the cluster suggestions
 * accepted and applied, the addresses checked against the BAN replica (batch geocoding) with its postcode
 * and city corrections accepted and applied, the open-data export written; then what the round did, in
 * numbers. The BAN's coordinate corrections (a point moved on the map) are left waiting for review
 * (AVALIDER), as a person would check them: the console's Consolidation review tab has a cohort to review.
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

/** What one round did, read back from the database (the cohorts it wrote and the export it recorded). */
export interface ConsolidationRound {
  /** Suggestions per cohort type written since the round started: how many were applied, failed, still wait for review. */
  cohorts: Record<string, { suggestions: number; applied: number; failed: number; waiting: number }>;
  export: { semaine: string; format: string; lignes: number; sha256: string }[];
}

async function roundSince(databaseUrl: string, since: Date): Promise<ConsolidationRound> {
  const db = connectPostgres(databaseUrl, { max: 1 });
  try {
    const rows = await db.sql<{ type_action: string; suggestions: number; applied: number; failed: number; waiting: number }[]>`
      select c.type_action, count(s.id)::int as suggestions, (count(s.id) filter (where s.statut = 'SUCCES'))::int as applied,
             (count(s.id) filter (where s.statut = 'ERREUR'))::int as failed, (count(s.id) filter (where s.statut = 'AVALIDER'))::int as waiting
        from consolidation.suggestion_cohortes c left join consolidation.suggestions s on s.cohorte_id = c.id
       where c.created_at >= ${since.toISOString()}::timestamptz group by c.type_action order by c.type_action`;
    const exported = await db.sql<{ semaine: string; format: string; lignes: number; sha256: string }[]>`
      select semaine, format, lignes, sha256 from consolidation.exports_opendata where exporte_le >= ${since.toISOString()}::timestamptz order by semaine desc, format`;
    return { cohorts: Object.fromEntries(rows.map(({ type_action, ...r }) => [type_action, r])), export: exported.map((e) => ({ ...e })) };
  } finally {
    await db.close();
  }
}

export async function demoConsolidation(opts: ConsolidationDemoOptions, say: (line?: string) => void) {
  const since = new Date();
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
  say('demo: enrichment: every active acteur\'s address through the BAN replica (batch /search/csv/); corrections of postcode and city become suggestions');
  await opts.moisson(['consolidation', 'enrich', 'ban', '--sync']);
  const enrichCohorts = await acceptWaiting(opts, ['ENRICH_ACTEURS_CP', 'ENRICH_ACTEURS_VILLES']);
  say(`demo: accepted the postcode and city corrections of ${enrichCohorts} cohort(s); applying them (the coordinate corrections are left to review)`);
  if (enrichCohorts > 0) await opts.moisson(['consolidation', 'apply', '--sync']);
  say('demo: the weekly open-data export (displayed acteurs refreshed, then CSV and GeoJSON of the openly licensed sources)');
  await opts.moisson(['consolidation', 'export', '--sync']);
  await opts.moisson(['consolidation', 'exports', '--limit', '2']);
  await opts.moisson(['consolidation', 'status']);
  const round = await roundSince(opts.databaseUrl, since);
  const of = (types: string[]) =>
    types.reduce((a, t) => ({ s: a.s + (round.cohorts[t]?.suggestions ?? 0), ok: a.ok + (round.cohorts[t]?.applied ?? 0), ko: a.ko + (round.cohorts[t]?.failed ?? 0) }), { s: 0, ok: 0, ko: 0 });
  const sources = of(['SOURCE_AJOUT', 'SOURCE_MODIFICATION', 'SOURCE_SUPRESSION']);
  const clusters = of(['CLUSTERING']);
  const enrich = of(Object.keys(round.cohorts).filter((t) => t.startsWith('ENRICH_')));
  say(`demo: consolidation round done: ${DEMO_SOURCES.length} sources ingested → ${sources.s} source suggestions, ${sources.ok} applied (${sources.ko} failed);`);
  const toReview = round.cohorts.ENRICH_ACTEURS_COORDONNEES?.waiting ?? 0;
  say(`      ${clusters.s} duplicate clusters across sources, ${clusters.ok} applied (${clusters.ko} failed); ${enrich.s} BAN corrections, ${enrich.ok} applied (${enrich.ko} failed);`);
  say(`      ${toReview} coordinate corrections left waiting for review (AVALIDER: the console's Consolidation review tab, or moisson consolidation suggestions list);`);
  say(`      open-data export ${round.export.map((e) => `${e.semaine} ${e.format} ${e.lignes} rows`).join(', ') || 'not written'}`);
  const db = connectPostgres(opts.databaseUrl, { max: 1 });
  try {
    return { ...(await databaseStatus(db.sql)), round };
  } finally {
    await db.close();
  }
}
