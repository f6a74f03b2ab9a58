CREATE SCHEMA IF NOT EXISTS "consolidation";
--> statement-breakpoint
CREATE TABLE "consolidation"."enrich_cache" (
	"service" text NOT NULL,
	"request_key" text NOT NULL,
	"request" jsonb NOT NULL,
	"response" jsonb NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "enrich_cache_pk" PRIMARY KEY("service","request_key")
);
--> statement-breakpoint
CREATE INDEX "enrich_cache_expires_idx" ON "consolidation"."enrich_cache" USING btree ("expires_at");
--> statement-breakpoint
CREATE TABLE "consolidation"."rate_limits" (
	"bucket" text PRIMARY KEY NOT NULL,
	"next_slot" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"last_remaining" integer,
	"last_reset_at" timestamp with time zone,
	"throttled_until" timestamp with time zone,
	"throttles" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."rate_limit_sends" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bucket" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rate_limit_sends_bucket_sent_idx" ON "consolidation"."rate_limit_sends" USING btree ("bucket","sent_at" DESC NULLS LAST);
--> statement-breakpoint
CREATE TABLE "consolidation"."sirene_etablissements" (
	"siret" text PRIMARY KEY NOT NULL,
	"siren" text NOT NULL,
	"nic" text NOT NULL,
	"etat_administratif" text NOT NULL,
	"date_debut" date,
	"date_creation" date,
	"etablissement_siege" boolean NOT NULL,
	"nom" text,
	"numero_voie" text,
	"indice_repetition" text,
	"type_voie" text,
	"libelle_voie" text,
	"complement_adresse" text,
	"code_postal" text,
	"libelle_commune" text,
	"code_commune" text,
	"activite_principale" text,
	"nomenclature_activite" text,
	"adresse_match" text,
	"date_dernier_traitement" timestamp without time zone,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sirene_etablissements_siren_idx" ON "consolidation"."sirene_etablissements" USING btree ("siren");
--> statement-breakpoint
CREATE INDEX "sirene_etablissements_replacement_idx" ON "consolidation"."sirene_etablissements" USING btree ("code_postal","numero_voie","activite_principale","adresse_match") WHERE "etat_administratif" = 'A';
--> statement-breakpoint
CREATE TABLE "consolidation"."enrich_proposals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"identifiant_unique" text NOT NULL,
	"fingerprint" text NOT NULL,
	"changes" jsonb NOT NULL,
	"reason" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrich_proposals_kind_acteur_fingerprint_uq" UNIQUE("kind","identifiant_unique","fingerprint")
);
--> statement-breakpoint
CREATE INDEX "enrich_proposals_created_idx" ON "consolidation"."enrich_proposals" USING btree ("kind","created_at");
