-- What the REST API reads instead of computing per request (issue 13). The latest word on each lot
-- (view pmmp.lot_results: résultat définitif first, then the newest notice, then the highest id_avis) is a
-- flag on the attribution row, `latest`, and a consultation's outcome (an award on some lot, or every
-- lot with a result unsuccessful) is a column, `award_outcome`. Both are kept by triggers on their only
-- inputs, attributions and notices, so every writer (the award store, a reparse, a hand fix) keeps them
-- right without knowing about them. The triggers are per statement with transition tables: a bulk
-- store recomputes its consultations once, set-based. `buyer_fold` stores pmmp.fold(buyer) so the
-- organisation filter reads a column (trigram-indexed) instead of running unaccent on every row.
ALTER TABLE pmmp.attributions ADD COLUMN latest boolean NOT NULL DEFAULT false;
--> statement-breakpoint
-- The publication day of the attribution's notice, on the row: lists sort and filter by it through one
-- index instead of joining notices on three columns (which the planner estimates at one row).
ALTER TABLE pmmp.attributions ADD COLUMN notice_published_on date;
--> statement-breakpoint
ALTER TABLE pmmp.consultations ADD COLUMN award_outcome text CHECK (award_outcome IN ('attribuee', 'infructueux'));
--> statement-breakpoint
ALTER TABLE pmmp.consultations ADD COLUMN buyer_fold text GENERATED ALWAYS AS (pmmp.fold(buyer)) STORED;
--> statement-breakpoint
DROP INDEX pmmp.consultations_buyer_fold_idx;
--> statement-breakpoint
CREATE INDEX consultations_buyer_fold_idx ON pmmp.consultations USING gin (buyer_fold gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX consultations_org_lower_idx ON pmmp.consultations (lower(org_acronyme));
--> statement-breakpoint
CREATE INDEX attributions_latest_amount_idx ON pmmp.attributions (amount, org_acronyme, ref_consultation, lot_key) WHERE latest;
--> statement-breakpoint
CREATE INDEX attributions_org_lower_idx ON pmmp.attributions (lower(org_acronyme)) WHERE latest;
--> statement-breakpoint
CREATE INDEX attributions_latest_published_idx ON pmmp.attributions (notice_published_on, org_acronyme, ref_consultation, lot_key) WHERE latest;
--> statement-breakpoint
CREATE INDEX notices_org_lower_idx ON pmmp.notices (lower(org_acronyme));
--> statement-breakpoint
CREATE INDEX notices_pv_published_key_idx ON pmmp.notices (published_on, org_acronyme, ref_consultation, id_avis) WHERE kind = 'extrait_pv';
--> statement-breakpoint
-- Recomputes `latest` on every attribution of the given consultations, then their `award_outcome`.
CREATE FUNCTION pmmp.refresh_award_state(orgs text[], refs text[]) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  WITH k AS (SELECT DISTINCT u.org AS org_acronyme, u.ref AS ref_consultation FROM unnest(orgs, refs) AS u(org, ref)),
  ranked AS (
    SELECT a.org_acronyme, a.ref_consultation, a.id_avis, a.lot_key, n.published_on,
           n.id_avis IS NOT NULL AND row_number() OVER (
             PARTITION BY a.org_acronyme, a.ref_consultation, a.lot_key, n.id_avis IS NULL
             ORDER BY (n.kind = 'resultat_definitif') DESC, n.published_on DESC NULLS LAST, a.id_avis DESC) = 1 AS latest
    FROM k
    JOIN pmmp.attributions a USING (org_acronyme, ref_consultation)
    LEFT JOIN pmmp.notices n USING (org_acronyme, ref_consultation, id_avis)
  )
  UPDATE pmmp.attributions a SET latest = r.latest, notice_published_on = r.published_on
  FROM ranked r
  WHERE a.org_acronyme = r.org_acronyme AND a.ref_consultation = r.ref_consultation AND a.id_avis = r.id_avis
    AND a.lot_key = r.lot_key
    AND (a.latest IS DISTINCT FROM r.latest OR a.notice_published_on IS DISTINCT FROM r.published_on);

  WITH k AS (SELECT DISTINCT u.org AS org_acronyme, u.ref AS ref_consultation FROM unnest(orgs, refs) AS u(org, ref)),
  outcome AS (
    SELECT k.org_acronyme, k.ref_consultation,
           CASE WHEN bool_or(a.status = 'attribue') THEN 'attribuee'
                WHEN bool_and(a.status IN ('infructueux', 'offre_excessive')) THEN 'infructueux' END AS outcome
    FROM k
    LEFT JOIN pmmp.attributions a ON a.org_acronyme = k.org_acronyme AND a.ref_consultation = k.ref_consultation AND a.latest
    GROUP BY 1, 2
  )
  UPDATE pmmp.consultations c SET award_outcome = o.outcome
  FROM outcome o
  WHERE c.org_acronyme = o.org_acronyme AND c.ref_consultation = o.ref_consultation
    AND c.award_outcome IS DISTINCT FROM o.outcome;
END $$;
--> statement-breakpoint
-- Attribution rows changed: their consultations (old and new keys) are recomputed. Its own updates of
-- `latest` (from within a trigger) are not a change of input.
CREATE FUNCTION pmmp.attributions_award_state() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  orgs text[];
  refs text[];
BEGIN
  IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT DISTINCT org_acronyme, ref_consultation FROM new_rows) s;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT DISTINCT org_acronyme, ref_consultation FROM old_rows) s;
  ELSE
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT org_acronyme, ref_consultation FROM new_rows UNION SELECT org_acronyme, ref_consultation FROM old_rows) s;
  END IF;
  IF orgs IS NOT NULL THEN PERFORM pmmp.refresh_award_state(orgs, refs); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER attributions_award_state_insert AFTER INSERT ON pmmp.attributions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.attributions_award_state();
--> statement-breakpoint
CREATE TRIGGER attributions_award_state_update AFTER UPDATE ON pmmp.attributions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.attributions_award_state();
--> statement-breakpoint
CREATE TRIGGER attributions_award_state_delete AFTER DELETE ON pmmp.attributions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.attributions_award_state();
--> statement-breakpoint
-- A notice's kind and date order the notices of a lot: when they change (or a notice comes or goes),
-- the consultations whose attributions it states are recomputed.
CREATE FUNCTION pmmp.notices_award_state() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  orgs text[];
  refs text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT DISTINCT n.org_acronyme, n.ref_consultation FROM new_rows n
          WHERE EXISTS (SELECT 1 FROM pmmp.attributions a
                        WHERE a.org_acronyme = n.org_acronyme AND a.ref_consultation = n.ref_consultation AND a.id_avis = n.id_avis)) s;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT DISTINCT org_acronyme, ref_consultation FROM old_rows) s;
  ELSE
    SELECT array_agg(org_acronyme), array_agg(ref_consultation) INTO orgs, refs
    FROM (SELECT DISTINCT n.org_acronyme, n.ref_consultation
          FROM new_rows n JOIN old_rows o USING (org_acronyme, ref_consultation, id_avis)
          WHERE n.kind IS DISTINCT FROM o.kind OR n.published_on IS DISTINCT FROM o.published_on) s;
  END IF;
  IF orgs IS NOT NULL THEN PERFORM pmmp.refresh_award_state(orgs, refs); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER notices_award_state_insert AFTER INSERT ON pmmp.notices
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notices_award_state();
--> statement-breakpoint
CREATE TRIGGER notices_award_state_update AFTER UPDATE ON pmmp.notices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notices_award_state();
--> statement-breakpoint
CREATE TRIGGER notices_award_state_delete AFTER DELETE ON pmmp.notices
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notices_award_state();
--> statement-breakpoint
-- A consultation stored after its notices' awards (the notice crawl can run first) starts with its outcome.
CREATE FUNCTION pmmp.consultations_award_outcome() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  SELECT CASE WHEN bool_or(a.status = 'attribue') THEN 'attribuee'
              WHEN bool_and(a.status IN ('infructueux', 'offre_excessive')) THEN 'infructueux' END
  INTO NEW.award_outcome
  FROM pmmp.attributions a
  WHERE a.org_acronyme = NEW.org_acronyme AND a.ref_consultation = NEW.ref_consultation AND a.latest;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_award_outcome BEFORE INSERT ON pmmp.consultations
  FOR EACH ROW EXECUTE FUNCTION pmmp.consultations_award_outcome();
--> statement-breakpoint
-- Rows stored before this migration.
UPDATE pmmp.attributions a SET notice_published_on = n.published_on
FROM pmmp.notices n
WHERE a.org_acronyme = n.org_acronyme AND a.ref_consultation = n.ref_consultation AND a.id_avis = n.id_avis AND n.published_on IS NOT NULL;
--> statement-breakpoint
UPDATE pmmp.attributions a SET latest = true
FROM pmmp.lot_results r
WHERE a.org_acronyme = r.org_acronyme AND a.ref_consultation = r.ref_consultation AND a.lot_key = r.lot_key AND a.id_avis = r.id_avis;
--> statement-breakpoint
UPDATE pmmp.consultations c SET award_outcome = o.outcome
FROM (
  SELECT org_acronyme, ref_consultation,
         CASE WHEN bool_or(status = 'attribue') THEN 'attribuee'
              WHEN bool_and(status IN ('infructueux', 'offre_excessive')) THEN 'infructueux' END AS outcome
  FROM pmmp.attributions WHERE latest GROUP BY 1, 2
) o
WHERE c.org_acronyme = o.org_acronyme AND c.ref_consultation = o.ref_consultation AND o.outcome IS NOT NULL;
