CREATE SCHEMA "apisync";
--> statement-breakpoint
CREATE TABLE "apisync"."columns" (
	"source" text NOT NULL,
	"stream" text NOT NULL,
	"column" text NOT NULL,
	"pg_type" text NOT NULL,
	"origin" text NOT NULL,
	"field" text NOT NULL,
	"first_run_id" uuid,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "columns_pkey" PRIMARY KEY("source","stream","column")
);
--> statement-breakpoint
CREATE TABLE "apisync"."rate_limit_sends" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bucket" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "apisync"."rate_limits" (
	"bucket" text PRIMARY KEY NOT NULL,
	"next_slot" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"last_remaining" integer,
	"last_reset_at" timestamp with time zone,
	"throttled_until" timestamp with time zone,
	"throttles" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "apisync"."run_leases" (
	"source" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"workflow_run_id" text NOT NULL,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"released" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "apisync"."sync_state" (
	"source" text NOT NULL,
	"stream" text NOT NULL,
	"watermark" timestamp with time zone,
	"last_mode" text,
	"last_status" text,
	"last_run_id" uuid,
	"last_success_at" timestamp with time zone,
	"last_full_at" timestamp with time zone,
	"row_count" bigint,
	"pending" jsonb,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_state_pkey" PRIMARY KEY("source","stream")
);
--> statement-breakpoint
CREATE INDEX "rate_limit_sends_bucket_sent_idx" ON "apisync"."rate_limit_sends" USING btree ("bucket","sent_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "run_leases_expires_idx" ON "apisync"."run_leases" USING btree ("expires_at");