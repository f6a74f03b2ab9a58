-- The statistics of 0003 joined consultations to lot results row by row, so a consultation with three
-- lots counted three times (and its estimate was summed three times). Results are now aggregated per
-- consultation first, then joined: one row per consultation, whatever its lots. Same columns as before.
DROP MATERIALIZED VIEW "pmmp"."stats_monthly";
--> statement-breakpoint
CREATE MATERIALIZED VIEW "pmmp"."stats_monthly" AS
WITH per_consultation AS (
  SELECT org_acronyme, ref_consultation,
         count(*) FILTER (WHERE status = 'attribue') AS lots_awarded,
         count(*) FILTER (WHERE status = 'infructueux') AS lots_unsuccessful,
         sum(amount) FILTER (WHERE status = 'attribue') AS awarded_amount
  FROM "pmmp"."lot_results"
  GROUP BY 1, 2
)
SELECT date_trunc('month', c.published_on)::date AS month,
       coalesce(c.market_kind, 'inconnu') AS market_kind,
       count(*)::int AS consultations,
       sum(c.estimation_ttc) AS estimation_ttc_total,
       coalesce(sum(r.lots_awarded), 0)::int AS lots_awarded,
       coalesce(sum(r.lots_unsuccessful), 0)::int AS lots_unsuccessful,
       sum(r.awarded_amount) AS awarded_amount_total
FROM "pmmp"."consultations" c
LEFT JOIN per_consultation r USING (org_acronyme, ref_consultation)
WHERE c.published_on IS NOT NULL
GROUP BY 1, 2;
--> statement-breakpoint
CREATE UNIQUE INDEX "stats_monthly_key" ON "pmmp"."stats_monthly" (month, market_kind);
--> statement-breakpoint
DROP MATERIALIZED VIEW "pmmp"."top_buyers";
--> statement-breakpoint
CREATE MATERIALIZED VIEW "pmmp"."top_buyers" AS
WITH per_consultation AS (
  SELECT org_acronyme, ref_consultation,
         count(*) FILTER (WHERE status = 'attribue') AS lots_awarded,
         sum(amount) FILTER (WHERE status = 'attribue') AS awarded_amount
  FROM "pmmp"."lot_results"
  GROUP BY 1, 2
)
SELECT c.buyer,
       count(*)::int AS consultations,
       sum(c.estimation_ttc) AS estimation_ttc_total,
       coalesce(sum(r.lots_awarded), 0)::int AS lots_awarded,
       sum(r.awarded_amount) AS awarded_amount_total,
       max(c.published_on) AS last_published_on
FROM "pmmp"."consultations" c
LEFT JOIN per_consultation r USING (org_acronyme, ref_consultation)
WHERE c.buyer IS NOT NULL
GROUP BY c.buyer;
--> statement-breakpoint
CREATE UNIQUE INDEX "top_buyers_key" ON "pmmp"."top_buyers" (buyer);
