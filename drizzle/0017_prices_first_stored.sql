-- When a quote was first stored: with run_id (the run that last changed it) a run's inserted / updated
-- counts come from the table itself, so a retried attempt that finds its killed attempt's rows "unchanged"
-- still reports them as the run's. Rows stored before this column existed get the migration's time.
ALTER TABLE "prices"."quotes" ADD COLUMN "first_stored_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "quotes_run_idx" ON "prices"."quotes" USING btree ("run_id") WHERE "prices"."quotes"."run_id" is not null;
