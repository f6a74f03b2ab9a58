/**
 * The real worker process (`workers/main.ts`) for the pmmp crash tests, with the portal replica and no
 * politeness, and the comparison of what two databases stored (without the columns that say when or
 * from which fetch).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestArchive, TestDatabase } from '../support/services';
import { startWorkerProcess } from '../support/worker-process';

export interface PmmpWorkerProcessOptions {
  db: TestDatabase;
  archive: TestArchive;
  temporal: TestWorkflowEnvironment;
  taskQueue: string;
  portalUrl: string;
  /** Proof files and the process's log (`worker-<label>.log`) go here. */
  dir: string;
  label: string;
  /** Overrides of the environment above (politeness on, a User-Agent per worker…). */
  env?: Record<string, string>;
}

export function startPmmpWorkerProcess(o: PmmpWorkerProcessOptions): Promise<ChildProcess> {
  return startWorkerProcess({
    db: o.db,
    archive: o.archive,
    temporal: o.temporal,
    taskQueue: o.taskQueue,
    logDir: o.dir,
    label: o.label,
    env: {
      PMMP_PORTAL_URL: o.portalUrl,
      FETCH_POLITENESS: 'off',
      FETCH_ROBOTS: 'ignore',
      PROOF_STORE_DIR: join(o.dir, 'interrupted'),
      ...o.env,
    },
  });
}

export async function countRows(db: TestDatabase, table: string): Promise<number> {
  const [row] = await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
  return row!.n;
}

/** What the pipeline stored, without the columns that say when or from which fetch (proof ids of pages with a fresh page state differ). */
export async function pmmpSnapshot(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const q = (text: string) => db.sql.unsafe(text);
  return {
    consultations: await q(`select org_acronyme, ref_consultation, reference, object, buyer, procedure, category, market_kind, published_on::text,
      deadline::text, estimation_ttc::text, allotted, lot_count, content_hash from pmmp.consultations order by 1, 2`),
    lots: await q(`select org_acronyme, ref_consultation, lot_number, object, estimation_ttc::text from pmmp.lots order by 1, 2, 3`),
    notices: await q(`select org_acronyme, ref_consultation, id_avis, kind, url, label, text_method, parser_version, award_reference,
      (proof_id is not null) as downloaded, fetch_attempts from pmmp.notices order by 1, 2, 3`),
    // Documents are stored by content (the proof id is their digest): the same bytes were kept.
    noticeProofs: await q(`select org_acronyme, ref_consultation, id_avis, proof_id from pmmp.notices order by 1, 2, 3`),
    attributions: await q(`select org_acronyme, ref_consultation, id_avis, lot_key, status, winner, amount::text from pmmp.attributions order by 1, 2, 3, 4`),
    bids: await q(`select org_acronyme, ref_consultation, id_avis, lot_key, bidder_key, amount::text, retained from pmmp.bids order by 1, 2, 3, 4, 5`),
    bdc: await q(`select bdc_id, reference, buyer, outcome, winner, amount_ttc::text from pmmp.bdc_results order by 1`),
    rejected: await q(`select kind, natural_key, reason from etl.rejected_records order by 1, 2, 3`),
  };
}
