CREATE SCHEMA "pmmp";
--> statement-breakpoint
CREATE TABLE "pmmp"."attributions" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"id_avis" text NOT NULL,
	"lot_key" text NOT NULL,
	"status" text NOT NULL,
	"winner" text,
	"winner_is_groupement" boolean,
	"winner_members" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"amount" numeric(18, 2),
	"amount_min" numeric(18, 2),
	"bidder_count" integer,
	"opening_date" date,
	"proof_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "attributions_pkey" PRIMARY KEY("org_acronyme","ref_consultation","id_avis","lot_key")
);
--> statement-breakpoint
CREATE TABLE "pmmp"."bdc_results" (
	"bdc_id" text PRIMARY KEY NOT NULL,
	"reference" text NOT NULL,
	"object" text,
	"buyer" text,
	"result_published_at" timestamp with time zone,
	"deadline" timestamp with time zone,
	"bid_count" integer,
	"outcome" text NOT NULL,
	"winner" text,
	"amount_ttc" numeric(18, 2),
	"detail_url" text,
	"proof_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pmmp"."bids" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"id_avis" text NOT NULL,
	"lot_key" text NOT NULL,
	"bidder_key" text NOT NULL,
	"bidder" text NOT NULL,
	"is_groupement" boolean DEFAULT false NOT NULL,
	"members" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"amount" numeric(18, 2),
	"amount_verified" numeric(18, 2),
	"eliminated" boolean DEFAULT false NOT NULL,
	"elimination_reason" text,
	"retained" boolean DEFAULT false NOT NULL,
	"proof_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bids_pkey" PRIMARY KEY("org_acronyme","ref_consultation","id_avis","lot_key","bidder_key")
);
--> statement-breakpoint
CREATE TABLE "pmmp"."consultations" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"reference" text,
	"object" text,
	"buyer" text,
	"procedure" text,
	"procedure_code" text,
	"passation_mode" text,
	"category" text,
	"market_kind" text,
	"execution_place" text,
	"published_on" date,
	"deadline" timestamp with time zone,
	"estimation_ttc" numeric(18, 2),
	"caution_provisoire" numeric(18, 2),
	"opening_place" text,
	"withdrawal_address" text,
	"submission_address" text,
	"variant_allowed" boolean,
	"reserved_small_business" boolean,
	"site_visits" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"qualifications" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"agrements" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"activity_domains" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"allotted" boolean,
	"lot_count" integer,
	"detail_url" text,
	"list_proof_id" text,
	"detail_proof_id" text,
	"content_hash" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consultations_pkey" PRIMARY KEY("org_acronyme","ref_consultation")
);
--> statement-breakpoint
CREATE TABLE "pmmp"."lots" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"lot_number" integer NOT NULL,
	"object" text,
	"category" text,
	"description" text,
	"estimation_ttc" numeric(18, 2),
	"caution_provisoire" numeric(18, 2),
	"qualifications" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"agrements" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"proof_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lots_pkey" PRIMARY KEY("org_acronyme","ref_consultation","lot_number")
);
--> statement-breakpoint
CREATE TABLE "pmmp"."notices" (
	"org_acronyme" text NOT NULL,
	"ref_consultation" text NOT NULL,
	"id_avis" text NOT NULL,
	"kind" text NOT NULL,
	"annonce_type" integer,
	"label" text,
	"url" text NOT NULL,
	"published_on" date,
	"proof_id" text,
	"text" text,
	"text_method" text,
	"ocr_pages" jsonb,
	"ocr_confidence" real,
	"parser_version" text,
	"parsed_at" timestamp with time zone,
	"award_reference" text,
	"opening_date" date,
	"commission_end_date" date,
	"document_date" date,
	"parse_confidence" jsonb,
	"parse_warnings" jsonb,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notices_pkey" PRIMARY KEY("org_acronyme","ref_consultation","id_avis")
);
--> statement-breakpoint
CREATE INDEX "attributions_winner_idx" ON "pmmp"."attributions" USING btree ("winner");--> statement-breakpoint
CREATE INDEX "attributions_status_idx" ON "pmmp"."attributions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "bdc_results_published_idx" ON "pmmp"."bdc_results" USING btree ("result_published_at");--> statement-breakpoint
CREATE INDEX "bdc_results_winner_idx" ON "pmmp"."bdc_results" USING btree ("winner");--> statement-breakpoint
CREATE INDEX "bids_bidder_key_idx" ON "pmmp"."bids" USING btree ("bidder_key");--> statement-breakpoint
CREATE INDEX "consultations_published_idx" ON "pmmp"."consultations" USING btree ("published_on");--> statement-breakpoint
CREATE INDEX "consultations_deadline_idx" ON "pmmp"."consultations" USING btree ("deadline");--> statement-breakpoint
CREATE INDEX "consultations_buyer_idx" ON "pmmp"."consultations" USING btree ("buyer");--> statement-breakpoint
CREATE INDEX "consultations_kind_published_idx" ON "pmmp"."consultations" USING btree ("market_kind","published_on");--> statement-breakpoint
CREATE INDEX "consultations_reference_idx" ON "pmmp"."consultations" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "notices_kind_published_idx" ON "pmmp"."notices" USING btree ("kind","published_on");--> statement-breakpoint
CREATE INDEX "notices_unparsed_idx" ON "pmmp"."notices" USING btree ("kind") WHERE "pmmp"."notices"."parsed_at" is null;