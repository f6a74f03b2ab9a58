/**
 * A long archive window for the prices drills (worker killed, FerretDB killed mid-archive): a year of
 * stored quotes for the seven assets and thirty archive-only series, so the archive writes 13,512
 * documents and a kill lands while it writes.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from 'mongodb';
import { ASSETS } from '../../schema/prices/assets';
import { createMoissonWorker } from '../../workers/create';
import type { PricesReplica } from '../replicas/prices';
import { workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

export const TODAY = new Date().toISOString().slice(0, 10);
/** Days of quotes already stored before the run (the archive window is at most 366 days). */
export const HISTORY_DAYS = 365;
export const SERIES = [
  ...ASSETS.map((a, i) => ({ code: a.code, class: a.assetClass, unit: a.unit, base: 10 + i * 7 })),
  ...Array.from({ length: 30 }, (_, i) => ({ code: `SERIES${String(i).padStart(2, '0')}`, class: 'fx', unit: '1 unit', base: 100 + i })),
];
export const ARCHIVED = SERIES.length * HISTORY_DAYS + ASSETS.length;
export const DAILY = { date: TODAY, archiveDays: HISTORY_DAYS + 1 };

export function replicaEnv(replica: PricesReplica): Record<string, string> {
  return {
    PRICES_ERAPI_URL: replica.baseUrls.erapi,
    PRICES_FAWAZ_URL: replica.baseUrls.fawaz,
    PRICES_COINGECKO_URL: replica.baseUrls.coingecko,
    PRICES_METALPRICEAPI_URL: replica.baseUrls.metalpriceapi,
    METALPRICEAPI_KEY: 'replica-metals-key',
    PRICES_HTTP_TIMEOUT_MS: '2000',
  };
}

/** The same stored history on every side: a quote per series per day before today, not archived yet. */
export async function seedHistory(db: TestDatabase): Promise<void> {
  await db.sql`
    insert into prices.quotes (asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp, direction, source_value, source_currency)
    select a.code, d::date, a.class, (a.base + (d::date - ${TODAY}::date) * 0.001)::numeric(24, 8), a.unit, 'seed', d, 'direct',
           (a.base + (d::date - ${TODAY}::date) * 0.001)::numeric, 'MRU'
      from jsonb_to_recordset(${JSON.stringify(SERIES)}::jsonb)
             as a(code text, class text, unit text, base numeric),
           generate_series(${TODAY}::date - ${HISTORY_DAYS}::int, ${TODAY}::date - 1, interval '1 day') as d`;
}

/** What a side stored, without the marks that say which run or attempt wrote a document. */
export async function stored(side: { db: TestDatabase; archive: Pick<TestArchive, 'db'> }) {
  const quotes = await side.db.sql`
    select asset_code, quote_date::text, price_mru::text, source, direction from prices.quotes order by 1, 2`;
  const docs = await side.archive.db
    .collection('prices')
    .find({}, { projection: { _id: 0, archived_at: 0, archived_by: 0, first_archived_by: 0 } })
    .sort({ asset_code: 1, date: 1 })
    .toArray();
  return { quotes: [...quotes], docs };
}

/** An in-process worker on the long window's deps (its database, its archive, the replica, TODAY). */
export async function longWindowWorker(temporal: TestWorkflowEnvironment, side: { db: TestDatabase; archive: { db: Db } }, replica: PricesReplica, taskQueue: string) {
  return createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: side.db.sql, db: side.db.db, mongo: side.archive.db, env: replicaEnv(replica), today: () => TODAY },
    workflowBundle: await workflowBundle(),
  });
}
