/**
 * Daily volumes per pipeline over the last days (UTC), each read from where the pipeline records it:
 * consultations first seen (pmmp), contacts scraped and validated (leads), MailWizz tries by outcome
 * (leads.sync_log), price rows first stored (prices), rows loaded by apisync (etl.etl_logs), suggestions
 * applied (consolidation: SUCCES, by when they got there). One statement; every day of the range is
 * present, zero when nothing happened.
 */
import type { Sql } from 'postgres';
import type { SyncOutcome } from '../../schema/leads/tables';

export const MAILWIZZ_OUTCOMES = ['created', 'existing', 'duplicate', 'failed', 'rejected'] as const satisfies readonly SyncOutcome[];

export interface DayVolumes {
  day: string;
  consultations: number;
  contacts_scraped: number;
  contacts_validated: number;
  mailwizz: Record<(typeof MAILWIZZ_OUTCOMES)[number], number>;
  price_rows: number;
  apisync_rows: number;
  suggestions_applied: number;
}

export async function dailyVolumes(sql: Sql, days: number, today: Date): Promise<{ from: string; to: string; days: DayVolumes[] }> {
  const to = today.toISOString().slice(0, 10);
  const rows = await sql<
    { day: string; consultations: number; scraped: number; validated: number; mailwizz: Record<string, number> | null; prices: number; apisync: number; applied: number }[]
  >`
    with range as (select (${to}::date - (${days}::int - 1)) as first, ${to}::date as last),
    bounds as (select first::timestamp at time zone 'UTC' as since, (last + 1)::timestamp at time zone 'UTC' as until from range),
    days as (select d::date as day from range, generate_series(range.first, range.last, interval '1 day') d),
    c as (select (first_seen_at at time zone 'UTC')::date as day, count(*)::int as n from pmmp.consultations, bounds where first_seen_at >= since and first_seen_at < until group by 1),
    s as (select (created_at at time zone 'UTC')::date as day, count(*)::int as n from leads.scraped_contacts, bounds where created_at >= since and created_at < until group by 1),
    v as (select (validated_at at time zone 'UTC')::date as day, count(*)::int as n from leads.validated_contacts, bounds where validated_at >= since and validated_at < until group by 1),
    m as (select day, jsonb_object_agg(outcome, n) as n from (
            select (created_at at time zone 'UTC')::date as day, outcome, count(*)::int as n from leads.sync_log, bounds where created_at >= since and created_at < until group by 1, 2) x group by day),
    p as (select (first_stored_at at time zone 'UTC')::date as day, count(*)::int as n from prices.quotes, bounds where first_stored_at >= since and first_stored_at < until group by 1),
    a as (select (created_at at time zone 'UTC')::date as day, sum(loaded)::int as n from etl.etl_logs, bounds where pipeline = 'apisync' and created_at >= since and created_at < until group by 1),
    g as (select (updated_at at time zone 'UTC')::date as day, count(*)::int as n from consolidation.suggestions, bounds where statut = 'SUCCES' and updated_at >= since and updated_at < until group by 1)
    select to_char(days.day, 'YYYY-MM-DD') as day, coalesce(c.n, 0) as consultations, coalesce(s.n, 0) as scraped, coalesce(v.n, 0) as validated, m.n as mailwizz,
           coalesce(p.n, 0) as prices, coalesce(a.n, 0) as apisync, coalesce(g.n, 0) as applied
      from days
      left join c using (day) left join s using (day) left join v using (day) left join m using (day)
      left join p using (day) left join a using (day) left join g using (day)
     order by days.day`;
  return {
    from: rows[0]!.day,
    to,
    days: rows.map((r) => ({
      day: r.day,
      consultations: r.consultations,
      contacts_scraped: r.scraped,
      contacts_validated: r.validated,
      mailwizz: Object.fromEntries(MAILWIZZ_OUTCOMES.map((o) => [o, Number(r.mailwizz?.[o] ?? 0)])) as DayVolumes['mailwizz'],
      price_rows: r.prices,
      apisync_rows: r.apisync,
      suggestions_applied: r.applied,
    })),
  };
}
