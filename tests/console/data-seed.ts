/**
 * Rows for the console's data tabs, written where each pipeline writes them (tests and the console bench
 * share it): a consolidation cohort of `suggestions` suggestions (one statement, so 50k cost a second),
 * daily volumes over the last days, an apisync source with its state, logs and rate limit, price
 * quotes per day, a domain blacklist and WHOIS lookups. The procurement data comes from the API data set
 * (tests/api/dataset.ts).
 */
import type { Sql } from 'postgres';

export interface SeedOptions {
  /** Suggestions in the cohort (every third sets `ville`, the others `code_postal`). */
  suggestions: number;
  /** The last day of the series (YYYY-MM-DD, UTC): prices and volumes end there. */
  today: string;
}

export interface Seeded {
  cohortId: number;
  /** Suggestions setting `code_postal` / `ville`. */
  codePostal: number;
  ville: number;
}

export async function seedConsoleData(sql: Sql, opts: SeedOptions): Promise<Seeded> {
  const [cohort] = await sql<{ id: string }[]>`
    insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, source_code, metadata)
    values ('source_console', ${`console-seed-${Date.now()}`}, 'SOURCE_MODIFICATION', 'console', '{"colonnes": {"code_postal": [12, 0, 0], "ville": [4, 1, 0]}}')
    returning id`;
  const cohortId = Number(cohort!.id);
  await sql`
    insert into consolidation.suggestions (cohorte_id, cle, statut, contexte, metadata, changes)
    select ${cohortId}, 'acteur-' || lpad(i::text, 6, '0'), 'AVALIDER',
           jsonb_build_object('ville', 'Lyon', 'code_postal', '69001'), jsonb_build_object('reason', 'corrigé par la source ' || i),
           jsonb_build_array(jsonb_build_object('order', 1, 'reason', 'valeur corrigée par la source', 'model_name', 'acteur_update_data',
             'model_params', jsonb_build_object('id', 'acteur-' || lpad(i::text, 6, '0'), 'data',
               case when i % 3 = 0 then jsonb_build_object('ville', 'Lyon ' || i) else jsonb_build_object('code_postal', lpad((10000 + i % 80000)::text, 5, '0')) end)))
      from generate_series(1, ${opts.suggestions}::int) i`;
  const ville = Math.floor(opts.suggestions / 3);

  // Daily volumes: contacts, MailWizz tries, apisync runs, over the last week.
  await sql`insert into leads.jobs (id, name, source_type, config, workflow_id, status) values ('console-seed', 'console seed', 'custom_urls', '{}', 'leads-job-console-seed', 'completed') on conflict do nothing`;
  await sql`
    insert into leads.scraped_contacts (job_id, dedup_key, email, source_url, status, created_at, domain)
    select 'console-seed', 'c' || i || '@seed.fr', 'c' || i || '@seed.fr', 'https://seed.fr/contact', 'valid', (${opts.today}::date - (i % 7))::timestamp at time zone 'UTC' + interval '9 hours', 'seed.fr'
      from generate_series(1, 40) i`;
  await sql`
    insert into leads.validated_contacts (email, scraped_contact_id, job_id, domain, category, platform, list_uid, template, validated_at)
    select s.email, s.id, s.job_id, 'seed.fr', 'default', 'mailwizz', 'L1', 'default', s.created_at + interval '1 hour'
      from leads.scraped_contacts s where s.job_id = 'console-seed' and s.id % 2 = 0`;
  await sql`
    insert into leads.sync_log (validated_contact_id, email, list_uid, attempt, outcome, created_at)
    select v.id, v.email, 'L1', 1, (array['created', 'created', 'existing', 'failed'])[1 + v.id % 4], v.validated_at + interval '1 hour'
      from leads.validated_contacts v where v.job_id = 'console-seed'`;
  const [run] = await sql<{ id: string }[]>`
    insert into etl.runs (pipeline, kind, workflow_id, workflow_run_id, status, params, started_at, finished_at)
    values ('apisync', 'incremental', 'apisync-pennylane', ${`seed-${cohortId}`}, 'success', '{"source": "pennylane"}', ${opts.today}::date + interval '5 hours', ${opts.today}::date + interval '5 hours 2 minutes')
    returning id`;
  await sql`
    insert into etl.etl_logs (run_id, pipeline, stream, status, extracted, loaded, rejected, duration_ms, details, created_at) values
      (${run!.id}, 'apisync', 'pennylane:customers', 'success', 120, 118, 2, 4100, '{"mode": "incremental"}', ${opts.today}::date + interval '5 hours 2 minutes'),
      (${run!.id}, 'apisync', 'pennylane:supplier_invoices', 'failure', 30, 0, 0, 900, '{"mode": "incremental"}', ${opts.today}::date + interval '5 hours 2 minutes')`;
  await sql`
    insert into apisync.sync_state (source, stream, watermark, last_mode, last_status, last_run_id, row_count, last_success_at, last_full_at, last_error)
    values ('pennylane', 'customers', ${opts.today}::date + interval '4 hours 59 minutes', 'incremental', 'success', ${run!.id}, 1180, ${opts.today}::date + interval '5 hours', ${opts.today}::date - 6, null),
           ('pennylane', 'supplier_invoices', ${opts.today}::date - 1, 'incremental', 'failure', ${run!.id}, 640, ${opts.today}::date - 1, ${opts.today}::date - 6, 'HTTP 503 from the API')
    on conflict do nothing`;
  await sql`insert into apisync.rate_limits (bucket, last_remaining, throttles) values ('app.pennylane.com:5eedc0ffee5eed00', 23, 1) on conflict do nothing`;
  await sql`insert into apisync.rate_limit_sends (bucket, sent_at) select 'app.pennylane.com:5eedc0ffee5eed00', now() - i * interval '1 second' from generate_series(1, 7) i`;

  // Prices: USD and XAU over the last 30 days.
  await sql`
    insert into prices.quotes (asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp, direction, source_value, source_currency, first_stored_at)
    select a.code, d::date, a.class, a.base + (extract(doy from d) % 7) * a.step, a.unit, 'seed', d, 'direct', a.base, 'MRU', d + interval '8 hours'
      from generate_series(${opts.today}::date - 29, ${opts.today}::date, interval '1 day') d,
           (values ('USD', 'fx', 39.70::numeric, 0.05::numeric, 'USD'), ('XAU', 'metals', 103000::numeric, 250::numeric, 'oz')) as a(code, class, base, step, unit)
    on conflict do nothing`;

  await sql`
    insert into leads.domain_blacklist (domain, sent, bounced, manual_reason) values
      ('rebonds.example', 40, 22, null), ('propre.example', 300, 3, null), ('plainte.example', 2, 0, 'plainte du destinataire')
    on conflict do nothing`;
  await sql`
    insert into leads.whois_cache (domain, found, registrar, registered_at, fetched_at, expires_at) values
      ('seed.fr', true, 'OVH SAS', '2011-03-02T00:00:00Z', now() - interval '1 hour', now() + interval '20 days'),
      ('exemple-boutique.fr', true, 'Gandi SAS', '2019-06-10T00:00:00Z', now() - interval '3 hours', now() + interval '20 days'),
      ('disparu.fr', false, null, null, now() - interval '2 days', now() + interval '5 days')
    on conflict do nothing`;
  return { cohortId, codePostal: opts.suggestions - ville, ville };
}
