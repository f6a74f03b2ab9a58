-- Lists of one organisation in their sort order (issue 13). An organisation given by its acronym (the
-- API checks that its text names no other buyer) is `lower(org_acronyme) = …`; with these indexes its
-- attributions and PV are a range of (lower(acronym), sort column, key) walked in order, so a page of a
-- large organisation reads its page, not the organisation's 13,000 rows first.
-- They replace the plain lower(acronym) index on attributions, their common prefix.
CREATE INDEX attributions_org_published_idx ON pmmp.attributions (lower(org_acronyme), notice_published_on, org_acronyme, ref_consultation, lot_key) WHERE latest;
--> statement-breakpoint
CREATE INDEX attributions_org_amount_idx ON pmmp.attributions (lower(org_acronyme), amount, org_acronyme, ref_consultation, lot_key) WHERE latest;
--> statement-breakpoint
DROP INDEX pmmp.attributions_org_lower_idx;
--> statement-breakpoint
CREATE INDEX notices_pv_org_published_idx ON pmmp.notices (lower(org_acronyme), published_on, org_acronyme, ref_consultation, id_avis) WHERE kind = 'extrait_pv';
--> statement-breakpoint
-- Search ranking on a narrow side table (issue 13). Ranking a common word reads every match's tsvector
-- and sort keys; read from pmmp.consultations, that is a heap page per few wide rows (object, buyer,
-- addresses, qualifications…), 18k buffers for "travaux" on 100k consultations. This table holds only
-- the key, the publication day (the ranking's tie-break) and the tsvector, so the same ranking reads a
-- fraction of the pages. It is kept by triggers on its only input, pmmp.consultations, per statement
-- (transition tables: a bulk upsert of consultations writes it once, set-based); deletes and key changes
-- follow through the foreign key. The tsvector is the consultation's stored `search` column copied as
-- is, so ranks are exactly those of the column.
CREATE TABLE pmmp.consultation_search (
  org_acronyme text NOT NULL,
  ref_consultation text NOT NULL,
  published_on date,
  search tsvector NOT NULL,
  PRIMARY KEY (org_acronyme, ref_consultation),
  FOREIGN KEY (org_acronyme, ref_consultation) REFERENCES pmmp.consultations (org_acronyme, ref_consultation)
    ON DELETE CASCADE ON UPDATE CASCADE
);
--> statement-breakpoint
CREATE INDEX consultation_search_idx ON pmmp.consultation_search USING gin (search);
--> statement-breakpoint
-- Rows of the statement whose searched text or day differ from the side table's are written; an upsert
-- that changes neither (a recrawl) writes nothing.
CREATE FUNCTION pmmp.consultations_search_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pmmp.consultation_search AS s (org_acronyme, ref_consultation, published_on, search)
  SELECT n.org_acronyme, n.ref_consultation, n.published_on, n.search FROM new_rows n
  ON CONFLICT (org_acronyme, ref_consultation) DO UPDATE SET published_on = excluded.published_on, search = excluded.search
  WHERE s.published_on IS DISTINCT FROM excluded.published_on OR s.search IS DISTINCT FROM excluded.search;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_search_insert AFTER INSERT ON pmmp.consultations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultations_search_sync();
--> statement-breakpoint
CREATE TRIGGER consultations_search_update AFTER UPDATE ON pmmp.consultations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultations_search_sync();
--> statement-breakpoint
-- Rows stored before this migration.
INSERT INTO pmmp.consultation_search (org_acronyme, ref_consultation, published_on, search)
SELECT org_acronyme, ref_consultation, published_on, search FROM pmmp.consultations;
--> statement-breakpoint
-- The API searches the side table only: a second GIN index over the same words would only slow writers.
DROP INDEX pmmp.consultations_search_idx;
