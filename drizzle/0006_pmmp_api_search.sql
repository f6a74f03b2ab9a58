-- What the REST API searches and filters with. French full-text over consultations (reference, object,
-- buyer) with accents and plurals folded: `pmmp.moisson_fr` is the french configuration with unaccent
-- before the snowball stemmer, so "Équipements" and "equipement" meet on one lexeme. The tsvector is a
-- stored generated column: loaders never compute it, ranking reads it without re-parsing the text.
-- `pmmp.fold` (lower + unaccent, immutable so it can be indexed) backs the substring filters on buyers
-- and winners with trigram indexes. Composite (sort column, key) indexes make keyset pages range scans.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
--> statement-breakpoint
CREATE FUNCTION pmmp.fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
--> statement-breakpoint
CREATE TEXT SEARCH CONFIGURATION pmmp.moisson_fr (COPY = pg_catalog.french);
--> statement-breakpoint
ALTER TEXT SEARCH CONFIGURATION pmmp.moisson_fr
  ALTER MAPPING FOR hword, hword_part, word, asciihword, hword_asciipart, asciiword WITH public.unaccent, french_stem;
--> statement-breakpoint
ALTER TABLE pmmp.consultations ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('pmmp.moisson_fr'::regconfig, coalesce(reference, '')), 'A') ||
  setweight(to_tsvector('pmmp.moisson_fr'::regconfig, coalesce(object, '')), 'B') ||
  setweight(to_tsvector('pmmp.moisson_fr'::regconfig, coalesce(buyer, '')), 'C')
) STORED;
--> statement-breakpoint
CREATE INDEX consultations_search_idx ON pmmp.consultations USING gin (search);
--> statement-breakpoint
CREATE INDEX consultations_buyer_fold_idx ON pmmp.consultations USING gin (pmmp.fold(buyer) gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX consultations_published_key_idx ON pmmp.consultations (published_on, org_acronyme, ref_consultation);
--> statement-breakpoint
CREATE INDEX consultations_deadline_key_idx ON pmmp.consultations (deadline, org_acronyme, ref_consultation);
--> statement-breakpoint
CREATE INDEX consultations_estimation_key_idx ON pmmp.consultations (estimation_ttc, org_acronyme, ref_consultation);
--> statement-breakpoint
CREATE INDEX attributions_winner_fold_idx ON pmmp.attributions USING gin (pmmp.fold(winner) gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX notices_published_key_idx ON pmmp.notices (published_on, org_acronyme, ref_consultation, id_avis);
