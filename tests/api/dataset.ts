/**
 * A realistic procurement data set for the API's tests and bench: the portal replica's deterministic
 * model (tests/replicas/pmmp, real buyers and references, French objects, lots, PV and résultats with
 * bidders and winners) turned into the parsers' items and loaded through the pipeline's own loaders
 * (`buildConsultationRecord` + `upsertConsultations`, `storeNoticeAwards`), then the statistics views
 * refreshed. The first consultations' notice PDFs are put in a real proof store (the others name the
 * sha256 of their text: proofs the store does not hold, as after a purge); the newest notices are
 * "discovered" rows without a document yet (proof_id null), as the notice crawl leaves them.
 *
 * Building 100k consultations takes a minute or two on 2 cores, so `cachedDatasetDatabase` keeps the
 * loaded database as a PostgreSQL template, named by a hash of the migrations and of the code that
 * builds it, and every test file or bench run clones it (`create database … template …`, seconds).
 *
 * From BULK_LOAD_FROM consultations on, the load runs without the big tables' secondary indexes and
 * without the triggers that keep derived data (search side table, stored ranks, award state): those are
 * filled once, set-based, after the load, and the indexes built then from their own definitions
 * (`bulkLoad`). tests/api/dataset-bulk.test.ts builds a small set both ways and compares every table.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { connectPostgres, type Database } from '../../activities/engine/db';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import type { AwardNotice } from '../../activities/pmmp/awards';
import { storeNoticeAwards, type NoticeAwardRecord } from '../../activities/pmmp/awards-store';
import type { ConsultationDetailItem, ConsultationListItem, LotItem } from '../../activities/pmmp/parse/index';
import { buildConsultationRecord, upsertConsultations, type ConsultationRecord } from '../../activities/pmmp/store';
import { notices as noticesTable } from '../../schema/pmmp/tables';
import { migrateDatabase } from '../../scripts/db/migrate';
import { PortalModel, type Consultation, type OracleConsultation } from '../replicas/pmmp/model';
import { noticePdf } from '../replicas/pmmp/notices';

export const PORTAL = 'https://www.marchespublics.gov.ma';
export const DATASET_TODAY = '2026-11-20';
/** The API's "now" for this data set: noon in Casablanca on DATASET_TODAY. */
export const DATASET_NOW = new Date('2026-11-20T11:00:00Z');
const PARSER_VERSION = 'dataset-1';
const BATCH = 2_000;
/**
 * From this size on the data set is loaded in bulk (`bulkLoad`). Per batch, the loaders' statements keep
 * every secondary index (three trigram/word GIN indexes among them) and the triggers refill the search
 * side table, its per-word ranks (~15 rows per consultation) and the award state: at 1M consultations
 * that was over an hour, most of it random index writes. Below it the per-batch path is kept as it was,
 * so the tests' 2k and 100k templates are built exactly as before.
 */
export const BULK_LOAD_FROM = 200_000;

export interface DatasetOptions {
  consultations: number;
  seed?: number | string;
  /** Consultations (the oldest) whose notice PDFs go into the proof store for real. */
  realProofConsultations?: number;
  /** Notices published in the last N days stay "discovered": no document, no award yet. */
  discoveredDays?: number;
  /** Load without secondary indexes and derived-data triggers, then build both once (`bulkLoad`). Default: from BULK_LOAD_FROM consultations. */
  bulk?: boolean;
  log?: (line: string) => void;
}

export interface DatasetSummary {
  consultations: number;
  notices: number;
  discoveredNotices: number;
  attributions: number;
  bids: number;
  realProofs: number;
  ms: number;
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function items(model: PortalModel, c: Consultation, o: OracleConsultation): { listed: ConsultationListItem; detail: ConsultationDetailItem; lots: LotItem[] } {
  const d = model.details(c);
  const lotsUrl = o.allotted ? `${PORTAL}/index.php?page=commun.PopUpDetailLots&orgAccronyme=${o.orgAcronyme}&refConsultation=${o.refConsultation}` : null;
  const listed: ConsultationListItem = {
    orgAcronyme: o.orgAcronyme,
    refConsultation: o.refConsultation,
    reference: o.reference || null,
    procedureCode: o.procedureCode || null,
    procedure: o.procedure || null,
    category: o.category || null,
    object: o.object || null,
    buyer: o.buyerName || null,
    executionPlace: o.executionPlace || null,
    annonceType: null,
    publishedOn: o.publishedOn,
    deadline: o.deadline,
    detailUrl: `${PORTAL}${o.detailUrl}`,
    lotsUrl,
  };
  const detail: ConsultationDetailItem = {
    orgAcronyme: o.orgAcronyme,
    refConsultation: o.refConsultation,
    reference: o.reference,
    object: o.object,
    buyer: o.buyer || null,
    annonceType: null,
    procedure: o.procedure || null,
    passationMode: o.passationMode || null,
    category: o.category || null,
    executionPlace: o.executionPlace || null,
    deadline: o.deadline,
    estimationTtc: o.estimationTtc,
    cautionProvisoire: o.cautionProvisoire,
    planPrice: null,
    openingPlace: c.buyer.opening || null,
    withdrawalAddress: c.buyer.withdrawal || null,
    submissionAddress: c.buyer.submission || null,
    variantAllowed: o.variantAllowed,
    reservedForSmallBusiness: o.reservedForSmallBusiness,
    siteVisits: o.siteVisits.map((at) => ({ at: /^\d{4}-\d{2}-\d{2}T/.test(at) ? at : null, place: null })),
    qualifications: d.qualifications,
    agrements: d.agrements,
    activityDomains: d.domains,
    allotted: o.allotted,
    lotCount: o.lotCount,
    lotsUrl,
    noticeDocuments: [],
  };
  const lots: LotItem[] = o.lots.map((l) => ({
    lotNumber: l.lotNumber,
    object: l.object || null,
    category: l.category || null,
    description: l.description,
    estimationTtc: l.estimationTtc,
    cautionProvisoire: l.cautionProvisoire,
    qualifications: l.qualifications,
    agrements: l.agrements,
  }));
  return { listed, detail, lots };
}

function awardOf(o: OracleConsultation, kind: 'extrait_pv' | 'resultat_definitif'): AwardNotice {
  return {
    kind,
    reference: o.reference,
    object: o.object,
    buyer: o.buyerName,
    openingDate: o.deadline.slice(0, 10),
    commissionEndDate: null,
    documentDate: null,
    lots: (o.attributions ?? []).map((a) => {
      const excessive = a.status === 'infructueux' && a.bids.length > 0 && a.bids.every((b) => b.status === 'excessive' || b.status === 'ecarte') && a.bids.some((b) => b.status === 'excessive');
      return {
        lotNumber: o.allotted ? String(a.lotNumber) : null,
        reference: null,
        openingDate: null,
        status: excessive ? 'offre_excessive' : a.status,
        bidders: a.bids.map((b) => ({
          bidder: b.name,
          isGroupement: b.name.startsWith('GROUPEMENT'),
          members: [],
          amount: b.amount,
          amountVerified: null,
          eliminated: b.status === 'ecarte',
          eliminationReason: b.status === 'ecarte' ? "écarté à l'issue de l'examen des dossiers administratif et technique" : null,
        })),
        bidderCount: a.bidderCount,
        winners: a.winner ? [{ name: a.winner, isGroupement: a.winner.startsWith('GROUPEMENT'), members: [], amount: a.amount, amountMin: null }] : [],
      };
    }),
    confidence: { reference: 1, object: 1, buyer: 1, openingDate: 1, commissionEndDate: 0, documentDate: 0, lots: 1 },
    warnings: [],
  };
}

function noticeText(o: OracleConsultation, kind: string): string {
  const lots = (o.attributions ?? []).map((a) => `Lot ${a.lotNumber}: ${a.status} ${a.winner ?? ''} ${a.amount ?? ''}`).join('\n');
  return `${kind === 'extrait_pv' ? 'EXTRAIT DE PROCES VERBAL' : 'RESULTATS DEFINITIFS'}\nN° ${o.reference}\nOBJET : ${o.object}\nMaître d'ouvrage : ${o.buyerName}\n${lots}\n`;
}

/**
 * The triggers that keep derived data, which `bulkLoad` turns off for the load and replaces by one pass
 * each: the search side table and its deletes and key changes (drizzle/0026, 0022), its per-word ranks
 * (0023), the award state of attributions and consultations (0015). Named, so that a migration renaming
 * one fails the build instead of leaving it on. The statement notifications (0031) stay on: they keep no
 * data. `alter table … disable trigger` rather than `session_replication_role = replica`: that would
 * also turn off the foreign keys' internal triggers (etl.proof_fetches → etl.proofs), so the load would
 * no longer be checked as the pipeline's is, and it needs superuser.
 */
const DERIVED_TRIGGERS: Record<string, readonly string[]> = {
  'pmmp.consultations': ['consultations_award_outcome', 'consultations_search_insert', 'consultations_search_update', 'consultations_search_delete', 'consultations_search_rekey'],
  'pmmp.consultation_search': ['consultation_search_lexemes_insert', 'consultation_search_lexemes_update', 'consultation_search_lexemes_delete'],
  'pmmp.attributions': ['attributions_award_state_insert', 'attributions_award_state_update', 'attributions_award_state_delete'],
  'pmmp.notices': ['notices_award_state_insert', 'notices_award_state_update', 'notices_award_state_delete'],
};

/** The tables written in volume, whose secondary indexes `bulkLoad` builds after the load. */
const BULK_TABLES = ['pmmp.consultations', 'pmmp.lots', 'pmmp.notices', 'pmmp.attributions', 'pmmp.bids', 'pmmp.consultation_search', 'pmmp.consultation_search_lexemes'];

/**
 * Derived data from the loaded base tables, one set-based statement each, with the migrations' own SQL:
 * each is a function of the final rows alone (the triggers recompute from the tables, not from the
 * order of writes), so one pass over everything equals the per-batch upkeep.
 */
const DERIVED_PASSES: readonly { what: string; sql: string }[] = [
  // drizzle/0026's backfill: what consultations_search_sync inserts into an empty side table.
  {
    what: 'search side table',
    sql: `insert into pmmp.consultation_search (org_acronyme, ref_consultation, published_on, search)
          select org_acronyme, ref_consultation, published_on, search from pmmp.consultations`,
  },
  // drizzle/0023's backfill: consultation_search_lexemes_insert's statement over the whole side table.
  {
    what: 'per-word search ranks',
    sql: `insert into pmmp.consultation_search_lexemes (lexeme, rank, published_key, org_acronyme, ref_consultation)
          select r.* from pmmp.consultation_search s, pmmp.search_lexeme_rows(s.org_acronyme, s.ref_consultation, s.published_on, s.search) r`,
  },
  // drizzle/0015's own function over every consultation with attributions, as attributions_award_state
  // calls it for a statement's. The others keep a null outcome, which is what consultations_award_outcome
  // (no latest attribution) gives them.
  {
    what: 'award state',
    sql: `select pmmp.refresh_award_state(array_agg(org_acronyme), array_agg(ref_consultation))
          from (select distinct org_acronyme, ref_consultation from pmmp.attributions) k`,
  },
];

/**
 * Runs `load` (the pipeline's loaders, unchanged) with the big tables' secondary indexes dropped and the
 * derived-data triggers off, then fills the derived data in one pass each and builds the indexes again
 * from their `pg_get_indexdef` read before the drop, so they are the migrations' to the letter. Primary
 * keys and unique constraints stay: the loaders' upserts (ON CONFLICT) and the award pass's joins need them.
 */
async function bulkLoad(db: PostgresJsDatabase, log: (line: string) => void, load: () => Promise<void>): Promise<void> {
  const tables = BULK_TABLES.map((t) => `'${t}'::regclass`).join(', ');
  const indexes = (await db.execute<{ name: string; def: string }>(`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
    from pg_index i
    where i.indrelid in (${tables})
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid)
    order by 1`)) as unknown as { name: string; def: string }[];
  const triggers = (on: boolean) =>
    Object.entries(DERIVED_TRIGGERS).map(([table, names]) => `alter table ${table} ${names.map((n) => `${on ? 'enable' : 'disable'} trigger ${n}`).join(', ')}`);
  await db.transaction(async (tx) => {
    for (const index of indexes) await tx.execute(`drop index ${index.name}`);
    for (const statement of triggers(false)) await tx.execute(statement);
  });
  let started = performance.now();
  const lap = (what: string) => {
    log(`dataset: ${what} in ${Math.round((performance.now() - started) / 1000)} s`);
    started = performance.now();
  };
  await load();
  lap(`loaded without ${indexes.length} secondary indexes and derived-data triggers`);
  await db.transaction(async (tx) => {
    // Sorts and hashes of a whole table (the award pass ranks every attribution) and index builds in memory.
    await tx.execute(`set local work_mem = '256MB'`);
    await tx.execute(`set local maintenance_work_mem = '1GB'`);
    // The award pass hands refresh_award_state every key at once (1M at 1M consultations); planned with
    // nested loops, its statements rescan the unnested keys per row and ran for over ten minutes without
    // ending. Hash joins: 51 s (the views' refresh below needs the same care).
    await tx.execute(`set local enable_nestloop = off`);
    await tx.execute(`analyze ${BULK_TABLES.join(', ')}`);
    for (const pass of DERIVED_PASSES) {
      await tx.execute(pass.sql);
      lap(pass.what);
    }
    // After the passes: their writes then maintain no secondary index either.
    for (const index of indexes) await tx.execute(index.def);
    lap(`${indexes.length} indexes built`);
    for (const statement of triggers(true)) await tx.execute(statement);
  });
}

/** Loads the data set into a migrated database; `proofs` holds the real notice PDFs of the first consultations. */
export async function loadDataset(db: PostgresJsDatabase, proofs: ProofStore, opts: DatasetOptions): Promise<DatasetSummary> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const model = new PortalModel({ seed: opts.seed ?? 'moisson-api', consultations: opts.consultations, today: DATASET_TODAY, bdcResults: 10 });
  const realProofConsultations = opts.realProofConsultations ?? 40;
  const discoveredFrom = new Date(Date.parse(`${DATASET_TODAY}T00:00:00Z`) - (opts.discoveredDays ?? 3) * 86_400_000).toISOString().slice(0, 10);
  const summary: DatasetSummary = { consultations: 0, notices: 0, discoveredNotices: 0, attributions: 0, bids: 0, realProofs: 0, ms: 0 };
  let records: ConsultationRecord[] = [];
  let awards: NoticeAwardRecord[] = [];
  const discovered: (typeof noticesTable.$inferInsert)[] = [];
  const flush = async () => {
    if (records.length) summary.consultations += Object.values(await upsertConsultations(db, records)).reduce((a, b) => a + b, 0);
    if (awards.length) {
      const counts = await storeNoticeAwards(db, awards);
      summary.attributions += counts.attributions;
      summary.bids += counts.bids;
      summary.notices += awards.length;
    }
    records = [];
    awards = [];
  };
  const load = async () => {
    for (const c of model.all) {
      const o = model.oracleConsultation(c);
      const { listed, detail, lots } = items(model, c, o);
      const pageId = sha256(`${listed.detailUrl}\n${o.reference}\n${o.object}`);
      records.push(buildConsultationRecord(listed, detail, lots, { list: sha256(`list ${o.publishedOn}`), detail: pageId, lots: lots.length ? sha256(`lots ${pageId}`) : null }));
      for (const n of o.notices) {
        if (n.type === 'achevement') continue;
        const kind = n.type === 'pv' ? 'extrait_pv' : 'resultat_definitif';
        const url = `${PORTAL}${n.url}`;
        if (n.publishedOn >= discoveredFrom || o.attributions === null) {
          discovered.push({ orgAcronyme: o.orgAcronyme, refConsultation: o.refConsultation, idAvis: n.idAvis, kind, annonceType: n.annonceType, url, publishedOn: n.publishedOn, label: null });
          continue;
        }
        const text = noticeText(o, kind);
        let proofId = sha256(text);
        if (c.index < realProofConsultations) {
          const notice = model.noticeById.get(n.idAvis)!;
          const put = await proofs.put({ body: noticePdf(model, notice), url, fetchedAt: `${n.publishedOn}T18:00:00Z`, contentType: 'application/pdf', kind: 'pmmp.notice-pdf' });
          proofId = put.proofId;
          summary.realProofs += 1;
        }
        awards.push({
          orgAcronyme: o.orgAcronyme,
          refConsultation: o.refConsultation,
          idAvis: n.idAvis,
          kind,
          url,
          annonceType: n.annonceType,
          label: null,
          publishedOn: n.publishedOn,
          proofId,
          extracted: { text, method: 'text-layer', ocrPages: [], ocrConfidence: null },
          award: awardOf(o, kind),
          parserVersion: PARSER_VERSION,
        });
      }
      if (records.length >= BATCH) {
        await flush();
        if (summary.consultations % 20_000 < BATCH) log(`dataset: ${summary.consultations} consultations loaded`);
      }
    }
    await flush();
    for (let i = 0; i < discovered.length; i += 1000) await db.insert(noticesTable).values(discovered.slice(i, i + 1000)).onConflictDoNothing();
  };
  if (opts.bulk ?? opts.consultations >= BULK_LOAD_FROM) await bulkLoad(db, log, load);
  else await load();
  summary.discoveredNotices = discovered.length;
  await db.execute('analyze');
  // PostgreSQL estimates the 3-column join attributions ⋈ notices inside pmmp.lot_results at one row,
  // and then nests a loop over it for each of the 100k consultations: a refresh of top_buyers runs for
  // many minutes. Hash joins take seconds. (Reported: the pipeline's own refresh needs the same care.)
  await db.transaction(async (tx) => {
    await tx.execute('set local enable_nestloop = off');
    for (const view of ['stats_monthly', 'top_buyers', 'top_winners']) await tx.execute(`refresh materialized view pmmp.${view}`);
  });
  // Vacuumed as autovacuum would leave a database that has been running: index-only reads (the open
  // consultations' keys, drizzle/0024_pmmp_api_open_deadline.sql; the stored search ranks) then read no heap page.
  await db.execute('vacuum analyze');
  summary.ms = Math.round(performance.now() - started);
  log(`dataset: ${summary.consultations} consultations, ${summary.notices} notices read, ${summary.discoveredNotices} discovered, ${summary.attributions} attributions, ${summary.bids} bids in ${Math.round(summary.ms / 1000)} s`);
  return summary;
}

/** What the cached template depends on: the migrations and the code that builds the rows. */
function datasetFingerprint(opts: DatasetOptions): string {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const files = [
    ...readdirSync(join(root, 'drizzle')).filter((f) => f.endsWith('.sql')).sort().map((f) => join('drizzle', f)),
    'tests/api/dataset.ts',
    'activities/pmmp/store.ts',
    'activities/pmmp/awards-store.ts',
    'tests/replicas/pmmp/model.ts',
    'tests/replicas/pmmp/vocab.ts',
    'tests/replicas/pmmp/notices.ts',
  ];
  const h = createHash('sha256').update(JSON.stringify({ ...opts, log: undefined }));
  for (const f of files) h.update(f).update(readFileSync(join(root, f)));
  return h.digest('hex').slice(0, 12);
}

export interface DatasetDatabase extends Database {
  name: string;
  url: string;
  proofDir: string;
  summary: DatasetSummary;
  drop(): Promise<void>;
}

/**
 * A fresh database holding the data set: a clone of the cached template, built first when missing.
 * `baseUrl` names the server (the stack's DATABASE_URL); `name` the clone.
 */
export async function cachedDatasetDatabase(baseUrl: string, name: string, opts: DatasetOptions): Promise<DatasetDatabase> {
  const fingerprint = datasetFingerprint(opts);
  const template = `moisson_apidata_${opts.consultations}_${fingerprint}`;
  const proofDir = join(tmpdir(), 'moisson-api-dataset', template, 'proofs');
  const admin = connectPostgres(new URL('/postgres', baseUrl).toString(), { max: 1 });
  const urlOf = (db: string) => new URL(`/${db}`, baseUrl).toString();
  let summary: DatasetSummary;
  try {
    // One builder per size at a time on this server; the others of that size wait and then clone. A lock
    // per size: a long build of one size (1M: over an hour) does not hold up the clones of another.
    const lock = `moisson api dataset template ${opts.consultations}`;
    await admin.sql`select pg_advisory_lock(hashtext(${lock}))`;
    try {
      const [existing] = await admin.sql<{ comment: string | null }[]>`
        select shobj_description(oid, 'pg_database') as comment from pg_database where datname = ${template}`;
      if (existing?.comment && existsSync(proofDir)) {
        summary = JSON.parse(existing.comment) as DatasetSummary;
      } else {
        // Older templates of this size are stale, and so are builds of this size left by a crashed run
        // (the lock is ours): drop them (and their proofs) before building. Names are compared by prefix,
        // not with LIKE, whose `_` matches any character: `moisson_apidata_100_%` also matched the
        // templates of 1,000 and 100,000 consultations, so building one size dropped another's. Builds
        // are not named `moisson_apidata_build_…`: code before the per-size lock drops every such name
        // as stale, a build of another size in progress included.
        const prefixes = [`moisson_apidata_${opts.consultations}_`, `moisson_apibuild_${opts.consultations}_`];
        const stale = await admin.sql<{ datname: string }[]>`
          select datname from pg_database where starts_with(datname, ${prefixes[0]!}) or starts_with(datname, ${prefixes[1]!})`;
        for (const s of stale) {
          await admin.sql.unsafe(`drop database if exists "${s.datname}" with (force)`);
          await rm(join(tmpdir(), 'moisson-api-dataset', s.datname), { recursive: true, force: true });
        }
        const building = `moisson_apibuild_${opts.consultations}_${process.pid}`;
        await rm(proofDir, { recursive: true, force: true });
        await mkdir(proofDir, { recursive: true });
        await migrateDatabase(urlOf(building));
        // A throwaway build: losing it in a crash costs a rebuild, so no need to wait for each commit's flush.
        const db = connectPostgres(urlOf(building), { connection: { synchronous_commit: 'off' } });
        try {
          await db.sql`select 1`;
          summary = await loadDataset(db.db, createProofStore({ db: db.db, dir: proofDir }), opts);
        } finally {
          await db.close();
        }
        await admin.sql.unsafe(`alter database "${building}" rename to "${template}"`);
        await admin.sql.unsafe(`comment on database "${template}" is '${JSON.stringify(summary).replace(/'/g, "''")}'`);
      }
      await admin.sql.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.sql.unsafe(`create database "${name}" template "${template}"`);
    } finally {
      await admin.sql`select pg_advisory_unlock(hashtext(${lock}))`;
    }
  } finally {
    await admin.close();
  }
  const database = connectPostgres(urlOf(name));
  return {
    ...database,
    name,
    url: urlOf(name),
    proofDir,
    summary,
    async drop() {
      await database.close();
      const a = connectPostgres(new URL('/postgres', baseUrl).toString(), { max: 1 });
      try {
        await a.sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.close();
      }
    },
  };
}
