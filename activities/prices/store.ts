/** Writes and reads of `prices.quotes`. The upsert is idempotent and says what it changed. */
import type { Sql } from 'postgres';
import type { AssetClass } from '../../schema/prices/assets';
import type { QuoteDirection } from '../../schema/prices/tables';

export interface QuoteRow {
  assetCode: string;
  quoteDate: string;
  assetClass: AssetClass;
  priceMru: string;
  unit: string;
  source: string;
  sourceTimestamp: string;
  direction: QuoteDirection;
  sourceValue: string;
  sourceCurrency: string;
  runId: string | null;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * One statement per batch, whatever its size: the rows travel as one JSON value that
 * `jsonb_to_recordset` turns back into rows. A row whose content is the same is left untouched (its updated_at too), so a re-run of
 * the same day changes nothing.
 */
export async function upsertQuotes(sql: Sql, rows: QuoteRow[], batchSize = 10_000): Promise<UpsertCounts> {
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    // One JSON parameter expanded by jsonb_to_recordset: one statement per batch, and no array
    // types needed (postgres.js only learns them once its first connection is open).
    const changed = await sql<{ inserted: boolean }[]>`
      insert into prices.quotes as q
        (asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp, direction, source_value, source_currency, run_id)
      select "assetCode", "quoteDate", "assetClass", "priceMru", unit, source, "sourceTimestamp", direction, "sourceValue", "sourceCurrency", "runId"
      from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as r(
        "assetCode" text, "quoteDate" date, "assetClass" text, "priceMru" numeric, unit text, source text,
        "sourceTimestamp" timestamptz, direction text, "sourceValue" numeric, "sourceCurrency" text, "runId" uuid)
      on conflict (asset_code, quote_date) do update set
        asset_class = excluded.asset_class, price_mru = excluded.price_mru, unit = excluded.unit, source = excluded.source,
        source_timestamp = excluded.source_timestamp, direction = excluded.direction, source_value = excluded.source_value,
        source_currency = excluded.source_currency, run_id = excluded.run_id, fetched_at = now(), updated_at = now()
      where (q.asset_class, q.price_mru, q.unit, q.source, q.source_timestamp, q.direction, q.source_value, q.source_currency)
        is distinct from (excluded.asset_class, excluded.price_mru, excluded.unit, excluded.source, excluded.source_timestamp,
                          excluded.direction, excluded.source_value, excluded.source_currency)
      returning (xmax = 0) as inserted`;
    const inserted = changed.filter((r) => r.inserted).length;
    counts.inserted += inserted;
    counts.updated += changed.length - inserted;
    counts.unchanged += batch.length - changed.length;
  }
  return counts;
}

export async function storedUsdMru(sql: Sql, date: string): Promise<string | undefined> {
  const [row] = await sql<{ price: string }[]>`select price_mru::text as price from prices.quotes where asset_code = 'USD' and quote_date = ${date}`;
  return row?.price;
}
