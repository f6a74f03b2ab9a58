-- One-word search read in rank order (issue 13, cold path). A one-word query's rank,
-- ts_rank_cd(search, word, 1), depends on the row and the word alone, so it is computed once per
-- (word, consultation) when the side table changes and kept in a table whose index is the search's own
-- order (rank, publication day newest first, key): a page of "route" or "travaux" is the index's next
-- rows, whatever the number of matches, where ranking every match read them all (1.8k-32k tsvectors on
-- the bench's 100k consultations, ten times that at 1M). The rank is PostgreSQL's own ts_rank_cd of the
-- stored tsvector and a one-lexeme tsquery, the very query websearch_to_tsquery gives for one word, so
-- pages are exactly the full ranking's (tests/api/data.test.ts checks both). It replaces 0028's bound
-- (a shortest-first walk for common words only), whose columns and indexes go.
-- The day is stored as `published_key` (null as -infinity): `published_key desc` is the search's
-- `published_on desc nulls last`, and every column is then NOT NULL, so a row is found again by
-- equality on the whole index key when its consultation changes.
CREATE FUNCTION pmmp.lexeme_query(lexeme text) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- The tsquery of one lexeme, quoted as tsquery input wants it (backslash and quote escaped).
  SELECT ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery
$$;
--> statement-breakpoint
CREATE TABLE pmmp.consultation_search_lexemes (
  lexeme text NOT NULL,
  rank real NOT NULL,
  published_key date NOT NULL,
  org_acronyme text NOT NULL,
  ref_consultation text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX consultation_search_lexemes_rank_idx ON pmmp.consultation_search_lexemes
  (lexeme, rank DESC, published_key DESC, org_acronyme, ref_consultation);
--> statement-breakpoint
-- Rows of the side table, one per lexeme of its tsvector.
CREATE FUNCTION pmmp.search_lexeme_rows(org text, ref text, day date, v tsvector)
  RETURNS TABLE (lexeme text, rank real, published_key date, org_acronyme text, ref_consultation text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT e.lexeme, ts_rank_cd(v, pmmp.lexeme_query(e.lexeme), 1), coalesce(day, '-infinity'::date), org, ref
  FROM unnest(tsvector_to_array(v)) e(lexeme)
$$;
--> statement-breakpoint
-- Kept per statement from the side table's transition tables (its writes are already set-based and
-- skip unchanged rows, drizzle/0026_pmmp_api_org_search.sql): an old row's entries are found by their
-- whole key, recomputed from the old tsvector.
CREATE FUNCTION pmmp.consultation_search_lexemes_delete() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pmmp.consultation_search_lexemes l
   USING old_rows o, pmmp.search_lexeme_rows(o.org_acronyme, o.ref_consultation, o.published_on, o.search) r
   WHERE l.lexeme = r.lexeme AND l.rank = r.rank AND l.published_key = r.published_key
     AND l.org_acronyme = r.org_acronyme AND l.ref_consultation = r.ref_consultation;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION pmmp.consultation_search_lexemes_insert() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pmmp.consultation_search_lexemes (lexeme, rank, published_key, org_acronyme, ref_consultation)
  SELECT r.* FROM new_rows n, pmmp.search_lexeme_rows(n.org_acronyme, n.ref_consultation, n.published_on, n.search) r;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION pmmp.consultation_search_lexemes_update() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pmmp.consultation_search_lexemes l
   USING old_rows o, pmmp.search_lexeme_rows(o.org_acronyme, o.ref_consultation, o.published_on, o.search) r
   WHERE l.lexeme = r.lexeme AND l.rank = r.rank AND l.published_key = r.published_key
     AND l.org_acronyme = r.org_acronyme AND l.ref_consultation = r.ref_consultation;
  INSERT INTO pmmp.consultation_search_lexemes (lexeme, rank, published_key, org_acronyme, ref_consultation)
  SELECT r.* FROM new_rows n, pmmp.search_lexeme_rows(n.org_acronyme, n.ref_consultation, n.published_on, n.search) r;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION pmmp.consultation_search_lexemes_truncate() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE pmmp.consultation_search_lexemes;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultation_search_lexemes_insert AFTER INSERT ON pmmp.consultation_search
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultation_search_lexemes_insert();
--> statement-breakpoint
CREATE TRIGGER consultation_search_lexemes_update AFTER UPDATE ON pmmp.consultation_search
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultation_search_lexemes_update();
--> statement-breakpoint
CREATE TRIGGER consultation_search_lexemes_delete AFTER DELETE ON pmmp.consultation_search
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultation_search_lexemes_delete();
--> statement-breakpoint
CREATE TRIGGER consultation_search_lexemes_truncate AFTER TRUNCATE ON pmmp.consultation_search
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.consultation_search_lexemes_truncate();
--> statement-breakpoint
-- Rows stored before this migration.
INSERT INTO pmmp.consultation_search_lexemes (lexeme, rank, published_key, org_acronyme, ref_consultation)
SELECT r.* FROM pmmp.consultation_search s, pmmp.search_lexeme_rows(s.org_acronyme, s.ref_consultation, s.published_on, s.search) r;
--> statement-breakpoint
-- 0028's bound, which this replaces.
DROP INDEX pmmp.consultation_search_strong_idx;
--> statement-breakpoint
DROP INDEX pmmp.consultation_search_length_idx;
--> statement-breakpoint
ALTER TABLE pmmp.consultation_search DROP COLUMN search_strong, DROP COLUMN length_bound;
--> statement-breakpoint
DROP FUNCTION pmmp.search_strong_words(tsvector);
--> statement-breakpoint
DROP FUNCTION pmmp.search_length_bound(tsvector);
--> statement-breakpoint
ANALYZE pmmp.consultation_search_lexemes;
