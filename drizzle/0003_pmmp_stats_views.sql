-- Statistics read by the API and refreshed after each pmmp run (REFRESH MATERIALIZED VIEW CONCURRENTLY,
-- hence a unique index on each). A lot can be stated by several notices (extrait de PV, then résultat
-- définitif): the latest word counts, the résultat définitif first.
CREATE VIEW "pmmp"."lot_results" AS
SELECT DISTINCT ON (a.org_acronyme, a.ref_consultation, a.lot_key)
       a.org_acronyme, a.ref_consultation, a.lot_key, a.id_avis, a.status, a.winner, a.winner_is_groupement,
       a.amount, a.amount_min, a.bidder_count, n.kind AS notice_kind, n.published_on AS notice_published_on
FROM "pmmp"."attributions" a
JOIN "pmmp"."notices" n USING (org_acronyme, ref_consultation, id_avis)
ORDER BY a.org_acronyme, a.ref_consultation, a.lot_key,
         (n.kind = 'resultat_definitif') DESC, n.published_on DESC NULLS LAST, a.id_avis DESC;
--> statement-breakpoint
CREATE MATERIALIZED VIEW "pmmp"."stats_monthly" AS
SELECT date_trunc('month', c.published_on)::date AS month,
       coalesce(c.market_kind, 'inconnu') AS market_kind,
       count(*)::int AS consultations,
       sum(c.estimation_ttc) AS estimation_ttc_total,
       count(r.*) FILTER (WHERE r.status = 'attribue')::int AS lots_awarded,
       count(r.*) FILTER (WHERE r.status = 'infructueux')::int AS lots_unsuccessful,
       sum(r.amount) FILTER (WHERE r.status = 'attribue') AS awarded_amount_total
FROM "pmmp"."consultations" c
LEFT JOIN "pmmp"."lot_results" r USING (org_acronyme, ref_consultation)
WHERE c.published_on IS NOT NULL
GROUP BY 1, 2;
--> statement-breakpoint
CREATE UNIQUE INDEX "stats_monthly_key" ON "pmmp"."stats_monthly" (month, market_kind);
--> statement-breakpoint
CREATE MATERIALIZED VIEW "pmmp"."top_buyers" AS
SELECT c.buyer,
       count(DISTINCT (c.org_acronyme, c.ref_consultation))::int AS consultations,
       sum(c.estimation_ttc) AS estimation_ttc_total,
       count(r.*) FILTER (WHERE r.status = 'attribue')::int AS lots_awarded,
       sum(r.amount) FILTER (WHERE r.status = 'attribue') AS awarded_amount_total,
       max(c.published_on) AS last_published_on
FROM "pmmp"."consultations" c
LEFT JOIN "pmmp"."lot_results" r USING (org_acronyme, ref_consultation)
WHERE c.buyer IS NOT NULL
GROUP BY c.buyer;
--> statement-breakpoint
CREATE UNIQUE INDEX "top_buyers_key" ON "pmmp"."top_buyers" (buyer);
--> statement-breakpoint
CREATE MATERIALIZED VIEW "pmmp"."top_winners" AS
SELECT upper(regexp_replace(btrim(r.winner), '\s+', ' ', 'g')) AS winner,
       count(*)::int AS lots_won,
       count(DISTINCT (r.org_acronyme, r.ref_consultation))::int AS consultations_won,
       sum(r.amount) AS awarded_amount_total,
       count(DISTINCT c.buyer)::int AS buyers,
       bool_or(r.winner_is_groupement) AS ever_in_groupement
FROM "pmmp"."lot_results" r
LEFT JOIN "pmmp"."consultations" c USING (org_acronyme, ref_consultation)
WHERE r.status = 'attribue' AND r.winner IS NOT NULL
GROUP BY 1;
--> statement-breakpoint
CREATE UNIQUE INDEX "top_winners_key" ON "pmmp"."top_winners" (winner);
