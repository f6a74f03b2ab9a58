CREATE TABLE "etl"."proof_fetches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"proof_id" text NOT NULL,
	"url" text NOT NULL,
	"fetched_at" timestamp with time zone NOT NULL,
	"kind" text,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "proof_fetches_once_key" UNIQUE("proof_id","url","fetched_at")
);
--> statement-breakpoint
CREATE TABLE "etl"."proofs" (
	"proof_id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"fetched_at" timestamp with time zone NOT NULL,
	"content_type" text,
	"kind" text,
	"size" bigint NOT NULL,
	"stored_size" bigint NOT NULL,
	"compression" text DEFAULT 'br' NOT NULL,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "proofs_proof_id_sha256" CHECK ("etl"."proofs"."proof_id" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "etl"."proof_fetches" ADD CONSTRAINT "proof_fetches_proof_id_proofs_proof_id_fk" FOREIGN KEY ("proof_id") REFERENCES "etl"."proofs"("proof_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "proof_fetches_url_fetched_idx" ON "etl"."proof_fetches" USING btree ("url","fetched_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "proofs_fetched_idx" ON "etl"."proofs" USING btree ("fetched_at","proof_id");--> statement-breakpoint
CREATE INDEX "proofs_kind_fetched_idx" ON "etl"."proofs" USING btree ("kind","fetched_at","proof_id");