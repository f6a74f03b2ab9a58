CREATE SCHEMA "etl";
--> statement-breakpoint
CREATE SCHEMA "prices";
--> statement-breakpoint
CREATE TABLE "etl"."etl_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"pipeline" text NOT NULL,
	"stream" text NOT NULL,
	"status" text NOT NULL,
	"extracted" integer DEFAULT 0 NOT NULL,
	"loaded" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"duration_ms" integer,
	"error" text,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "etl_logs_run_stream_key" UNIQUE("run_id","stream")
);
--> statement-breakpoint
CREATE TABLE "etl"."rejected_records" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" uuid,
	"pipeline" text NOT NULL,
	"kind" text NOT NULL,
	"natural_key" text NOT NULL,
	"reason" text NOT NULL,
	"source" text,
	"payload" jsonb,
	"proof_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rejected_records_once_key" UNIQUE NULLS NOT DISTINCT("run_id","pipeline","kind","natural_key","source","reason")
);
--> statement-breakpoint
CREATE TABLE "etl"."runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pipeline" text NOT NULL,
	"kind" text NOT NULL,
	"workflow_id" text NOT NULL,
	"workflow_run_id" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"summary" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "runs_workflow_run_id_key" UNIQUE("workflow_run_id")
);
--> statement-breakpoint
CREATE TABLE "prices"."quotes" (
	"asset_code" text NOT NULL,
	"quote_date" date NOT NULL,
	"asset_class" text NOT NULL,
	"price_mru" numeric(24, 8) NOT NULL,
	"unit" text NOT NULL,
	"source" text NOT NULL,
	"source_timestamp" timestamp with time zone NOT NULL,
	"direction" text NOT NULL,
	"source_value" numeric(36, 18) NOT NULL,
	"source_currency" text NOT NULL,
	"run_id" uuid,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quotes_pkey" PRIMARY KEY("asset_code","quote_date")
);
--> statement-breakpoint
ALTER TABLE "etl"."etl_logs" ADD CONSTRAINT "etl_logs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "etl"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "etl"."rejected_records" ADD CONSTRAINT "rejected_records_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "etl"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "etl_logs_pipeline_created_idx" ON "etl"."etl_logs" USING btree ("pipeline","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "rejected_records_pipeline_created_idx" ON "etl"."rejected_records" USING btree ("pipeline","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_pipeline_started_idx" ON "etl"."runs" USING btree ("pipeline","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "quotes_date_idx" ON "prices"."quotes" USING btree ("quote_date");