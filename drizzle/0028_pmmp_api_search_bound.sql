-- Search for a common word without ranking every match (issue 13). A one-word query's rank,
-- ts_rank_cd(search, word, 1), is the sum of the weights of the word's positions (D 0.1, C 0.2, B 0.4,
-- A 1.0; each position is its own cover, with no noise) divided by ln(1 + the vector's position count).
-- So a word that occurs once in the object (B), or only in the buyer (C), ranks at most
-- 0.4 / ln(1 + length), a bound the row stores (`length_bound`, indexed): for such words the shortest
-- consultations rank first. The words that can rank higher in a consultation (any A position, or
-- several positions together above 0.4: "travaux … travaux", a word in both object and buyer) are
-- stored apart (`search_strong`, GIN-indexed; a handful of rows per common word).
-- The API ranks the strong matches and the N shortest matches, and keeps that page when the N-th
-- shortest's bound is below the last rank on the page: no other match can reach the page, so the
-- answer is exactly the full ranking's (api/pmmp/queries.ts; checked against it in tests/api/data.test.ts).
-- Both are computed from the stored tsvector by immutable functions, so they follow every write the
-- side table's triggers make, as generated columns.
CREATE FUNCTION pmmp.search_strong_words(v tsvector) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- Words whose positions weigh 0.4 or less together are dropped (0.4000001: float4 weights summed in
  -- double); a word without positions is kept, as is every word with an A position.
  SELECT strip(ts_delete(v, coalesce(array_agg(e.lexeme) FILTER (
    WHERE cardinality(e.weights) > 0
      AND (SELECT sum(CASE w WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.2 ELSE 0.1 END) FROM unnest(e.weights) w) <= 0.4000001
  ), '{}')))
  FROM unnest(v) e
$$;
--> statement-breakpoint
CREATE FUNCTION pmmp.search_length_bound(v tsvector) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- ln(1 + positions, a word without positions counting one): PostgreSQL's own normalization 1. The
  -- 1e-6 margin covers the rank's rounding to float4.
  SELECT coalesce(0.4000001 / ln(sum(greatest(coalesce(cardinality(e.positions), 0), 1)) + 1) * (1 + 1e-6), 0)
  FROM unnest(v) e
$$;
--> statement-breakpoint
ALTER TABLE pmmp.consultation_search
  ADD COLUMN search_strong tsvector GENERATED ALWAYS AS (pmmp.search_strong_words(search)) STORED,
  ADD COLUMN length_bound float8 GENERATED ALWAYS AS (pmmp.search_length_bound(search)) STORED;
--> statement-breakpoint
CREATE INDEX consultation_search_strong_idx ON pmmp.consultation_search USING gin (search_strong);
--> statement-breakpoint
CREATE INDEX consultation_search_length_idx ON pmmp.consultation_search (length_bound);
