-- One politeness budget per host for the whole fleet (issue 12): every worker process that fetches from
-- a host takes its turns here, so N workers crawling the same portal send what one would. A turn is
-- granted by etl.host_turn under the host row's lock, on the database clock (one clock for every
-- process): no start before `next_start` (rate, robots.txt Crawl-delay, the pause after a response) nor
-- before `cooldown_until` (a 429's Retry-After or a block seen by any worker), and no more requests in
-- flight than the caller's limit, counted from `leases` (lease id -> expiry in epoch ms, so the lease of
-- a killed process lapses by itself). Several start times can be granted in one round trip when the
-- host has no concurrency limit and no pause (a fast rate-only budget).
CREATE TABLE "etl"."host_budgets" (
	"host" text PRIMARY KEY NOT NULL,
	"next_start" timestamp with time zone DEFAULT '-infinity' NOT NULL,
	"cooldown_until" timestamp with time zone DEFAULT '-infinity' NOT NULL,
	"leases" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"grants" bigint DEFAULT 0 NOT NULL,
	"cooldowns" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- granted > 0: that many consecutive starts, the first now, each `interval_ms` after the previous one.
-- granted = 0: try again after wait_ms (the next start is later, or every lease is taken: wait_ms is then
-- when the first lease lapses; the caller polls sooner, since leases are usually returned early).
CREATE FUNCTION "etl"."host_turn"(p_host text, p_lease text, p_max_concurrent integer, p_interval_ms double precision, p_lease_ms double precision, p_tokens integer)
RETURNS TABLE (granted integer, wait_ms double precision) LANGUAGE plpgsql AS $$
DECLARE
  b etl.host_budgets;
  now_ts timestamptz;
  now_ms double precision;
  due timestamptz;
  live jsonb;
  live_count integer;
  first_expiry double precision;
BEGIN
  INSERT INTO etl.host_budgets (host) VALUES (p_host) ON CONFLICT (host) DO NOTHING;
  SELECT * INTO b FROM etl.host_budgets WHERE host = p_host FOR UPDATE;
  now_ts := clock_timestamp();
  now_ms := extract(epoch FROM now_ts) * 1000;
  due := greatest(b.next_start, b.cooldown_until);
  IF due > now_ts THEN
    RETURN QUERY SELECT 0, (extract(epoch FROM due) * 1000 - now_ms)::double precision;
    RETURN;
  END IF;
  SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb), count(*)::integer, min((value #>> '{}')::double precision)
    INTO live, live_count, first_expiry
    FROM jsonb_each(b.leases) WHERE (value #>> '{}')::double precision > now_ms;
  IF p_max_concurrent > 0 AND live_count >= p_max_concurrent THEN
    RETURN QUERY SELECT 0, greatest(1, first_expiry - now_ms)::double precision;
    RETURN;
  END IF;
  UPDATE etl.host_budgets
     SET leases = CASE WHEN p_max_concurrent > 0 THEN live || jsonb_build_object(p_lease, now_ms + p_lease_ms) ELSE live END,
         next_start = now_ts + make_interval(secs => p_interval_ms * greatest(1, p_tokens) / 1000),
         grants = grants + greatest(1, p_tokens),
         updated_at = now_ts
   WHERE host = p_host;
  RETURN QUERY SELECT greatest(1, p_tokens), 0::double precision;
END $$;
