-- `TRUNCATE pmmp.consultations` failed since 0026 unless it also named pmmp.consultation_search: PostgreSQL
-- refuses to truncate a table that another one references by foreign key, and checks it before any
-- trigger runs, so no TRUNCATE trigger can help while that key exists. The side table is derived data,
-- written only by the triggers on pmmp.consultations: its foreign key is replaced by triggers doing what
-- its ON DELETE / ON UPDATE CASCADE did, and a TRUNCATE of the consultations empties it too.
-- This entry changes 0026's table: it follows 0026 in the journal.
ALTER TABLE pmmp.consultation_search DROP CONSTRAINT consultation_search_org_acronyme_ref_consultation_fkey;
--> statement-breakpoint
-- Deleted consultations, per statement (transition table: a bulk delete is one set-based delete here).
CREATE FUNCTION pmmp.consultations_search_delete() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pmmp.consultation_search s USING old_rows o
   WHERE s.org_acronyme = o.org_acronyme AND s.ref_consultation = o.ref_consultation;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_search_delete AFTER DELETE ON pmmp.consultations
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultations_search_delete();
--> statement-breakpoint
-- A key change (rare: no pipeline renames a consultation): the statement's update trigger (0026) writes
-- the new key; the old one goes unless another row of the statement took it (a chain of renames). Per row with a WHEN, so the
-- upserts of the crawls, which never set the key, pay nothing (the 0026 trigger's transition table
-- holds the new rows only).
CREATE FUNCTION pmmp.consultations_search_rekey() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pmmp.consultation_search s
   WHERE s.org_acronyme = OLD.org_acronyme AND s.ref_consultation = OLD.ref_consultation
     AND NOT EXISTS (SELECT 1 FROM pmmp.consultations c WHERE c.org_acronyme = OLD.org_acronyme AND c.ref_consultation = OLD.ref_consultation);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_search_rekey AFTER UPDATE OF org_acronyme, ref_consultation ON pmmp.consultations
  FOR EACH ROW WHEN (OLD.org_acronyme IS DISTINCT FROM NEW.org_acronyme OR OLD.ref_consultation IS DISTINCT FROM NEW.ref_consultation)
  EXECUTE FUNCTION pmmp.consultations_search_rekey();
--> statement-breakpoint
-- A TRUNCATE that names the side table as well has it open: PostgreSQL refuses to truncate it again
-- within the statement (object_in_use), and it is empty by then, which a DELETE confirms.
CREATE FUNCTION pmmp.consultations_search_truncate() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE pmmp.consultation_search;
  RETURN NULL;
EXCEPTION WHEN object_in_use THEN
  DELETE FROM pmmp.consultation_search;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_search_truncate AFTER TRUNCATE ON pmmp.consultations
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultations_search_truncate();
