CREATE TABLE "pmmp"."achevements" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"id_avis" text NOT NULL,
	"contractors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"initial_amount" numeric(18, 2),
	"final_amount" numeric(18, 2),
	"completed_on" date,
	"proof_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "achevements_pkey" PRIMARY KEY("org_acronyme","ref_consultation","id_avis")
);
--> statement-breakpoint
ALTER TABLE "pmmp"."notices" ADD COLUMN "fetch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pmmp"."notices" ADD COLUMN "last_error" text;--> statement-breakpoint
CREATE INDEX "achevements_completed_idx" ON "pmmp"."achevements" USING btree ("completed_on");--> statement-breakpoint
CREATE INDEX "notices_pending_idx" ON "pmmp"."notices" USING btree ("org_acronyme","ref_consultation","id_avis") WHERE "pmmp"."notices"."proof_id" is null;