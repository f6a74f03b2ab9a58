import { sql } from 'drizzle-orm';
import { date, index, numeric, pgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { AssetClass } from './assets';

export const prices = pgSchema('prices');

export const QUOTE_DIRECTIONS = ['direct', 'inverse', 'cross'] as const;
/**
 * How the source's number relates to the stored price: `direct` (the source gave the price of one
 * unit in MRU), `inverse` (it gave units per MRU; we took 1/x), `cross` (computed through USD).
 */
export type QuoteDirection = (typeof QUOTE_DIRECTIONS)[number];

export const quotes = prices.table(
  'quotes',
  {
    assetCode: text('asset_code').notNull(),
    quoteDate: date('quote_date', { mode: 'string' }).notNull(),
    assetClass: text('asset_class').$type<AssetClass>().notNull(),
    /** Exact decimal, never a float: read and written as strings. */
    priceMru: numeric('price_mru', { precision: 24, scale: 8 }).notNull(),
    unit: text('unit').notNull(),
    source: text('source').notNull(),
    sourceTimestamp: timestamp('source_timestamp', { withTimezone: true, mode: 'string' }).notNull(),
    direction: text('direction').$type<QuoteDirection>().notNull(),
    /** The number the source gave, before conversion, and its currency. */
    sourceValue: numeric('source_value', { precision: 36, scale: 18 }).notNull(),
    sourceCurrency: text('source_currency').notNull(),
    runId: uuid('run_id'),
    fetchedAt: timestamp('fetched_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    /** Never moved by an update: a run's inserted / updated counts are read from it and `run_id`. */
    firstStoredAt: timestamp('first_stored_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'quotes_pkey', columns: [t.assetCode, t.quoteDate] }),
    index('quotes_date_idx').on(t.quoteDate),
    index('quotes_run_idx').on(t.runId).where(sql`${t.runId} is not null`),
  ],
);

export type Quote = typeof quotes.$inferSelect;
export type NewQuote = typeof quotes.$inferInsert;
