CREATE SCHEMA "consolidation";
--> statement-breakpoint
CREATE TABLE "consolidation"."acteurs" (
	"identifiant_unique" text PRIMARY KEY NOT NULL,
	"source_code" text NOT NULL,
	"identifiant_externe" text NOT NULL,
	"nom" text NOT NULL,
	"nom_commercial" text,
	"nom_officiel" text,
	"description" text,
	"adresse" text,
	"adresse_complement" text,
	"code_postal" text,
	"ville" text,
	"latitude" double precision,
	"longitude" double precision,
	"siret" text,
	"siren" text,
	"naf_principal" text,
	"telephone" text,
	"email" text,
	"url" text,
	"horaires_osm" text,
	"horaires_description" text,
	"acteur_type_code" text,
	"statut" text DEFAULT 'ACTIF' NOT NULL,
	"public_accueilli" text,
	"reprise" text,
	"exclusivite_de_reprisereparation" boolean,
	"uniquement_sur_rdv" boolean,
	"lieu_prestation" text,
	"label_codes" text[] DEFAULT '{}'::text[] NOT NULL,
	"acteur_service_codes" text[] DEFAULT '{}'::text[] NOT NULL,
	"proposition_service_codes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"perimetre_adomicile_codes" jsonb,
	"consignes_dacces" text,
	"commentaires" text,
	"cree_le" timestamp with time zone DEFAULT now() NOT NULL,
	"modifie_le" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."revision_acteurs" (
	"identifiant_unique" text PRIMARY KEY NOT NULL,
	"source_code" text,
	"identifiant_externe" text,
	"nom" text,
	"nom_commercial" text,
	"nom_officiel" text,
	"description" text,
	"adresse" text,
	"adresse_complement" text,
	"code_postal" text,
	"ville" text,
	"latitude" double precision,
	"longitude" double precision,
	"siret" text,
	"siren" text,
	"naf_principal" text,
	"telephone" text,
	"email" text,
	"url" text,
	"horaires_osm" text,
	"horaires_description" text,
	"acteur_type_code" text,
	"statut" text,
	"public_accueilli" text,
	"reprise" text,
	"exclusivite_de_reprisereparation" boolean,
	"uniquement_sur_rdv" boolean,
	"lieu_prestation" text,
	"label_codes" text[],
	"acteur_service_codes" text[],
	"proposition_service_codes" jsonb,
	"perimetre_adomicile_codes" jsonb,
	"consignes_dacces" text,
	"commentaires" text,
	"cree_le" timestamp with time zone DEFAULT now() NOT NULL,
	"modifie_le" timestamp with time zone DEFAULT now() NOT NULL,
	"parent_id" text,
	"est_parent" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."sources" (
	"code" text PRIMARY KEY NOT NULL,
	"libelle" text NOT NULL,
	"url" text,
	"licence" text DEFAULT 'NO_LICENSE' NOT NULL,
	"priority" integer DEFAULT 100 NOT NULL,
	"afficher" boolean DEFAULT true NOT NULL,
	"declaration" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."suggestion_cohortes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"identifiant_action" text NOT NULL,
	"identifiant_execution" text NOT NULL,
	"type_action" text NOT NULL,
	"statut" text DEFAULT 'AVALIDER' NOT NULL,
	"source_code" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."suggestion_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"cohorte_id" bigint,
	"suggestion_id" bigint,
	"identifiant_execution" text NOT NULL,
	"source_code" text,
	"identifiant_unique" text,
	"ligne" integer,
	"niveau" text NOT NULL,
	"fonction" text NOT NULL,
	"origine_colonnes" text[] NOT NULL,
	"origine_valeurs" jsonb NOT NULL,
	"destination_colonnes" text[] NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consolidation"."suggestions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"cohorte_id" bigint NOT NULL,
	"cle" text NOT NULL,
	"statut" text DEFAULT 'AVALIDER' NOT NULL,
	"contexte" jsonb,
	"changes" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_logs" ADD CONSTRAINT "suggestion_logs_cohorte_id_suggestion_cohortes_id_fk" FOREIGN KEY ("cohorte_id") REFERENCES "consolidation"."suggestion_cohortes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_logs" ADD CONSTRAINT "suggestion_logs_suggestion_id_suggestions_id_fk" FOREIGN KEY ("suggestion_id") REFERENCES "consolidation"."suggestions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consolidation"."suggestions" ADD CONSTRAINT "suggestions_cohorte_id_suggestion_cohortes_id_fk" FOREIGN KEY ("cohorte_id") REFERENCES "consolidation"."suggestion_cohortes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "acteurs_source_idx" ON "consolidation"."acteurs" USING btree ("source_code","statut");--> statement-breakpoint
CREATE INDEX "acteurs_cp_ville_idx" ON "consolidation"."acteurs" USING btree ("code_postal","ville");--> statement-breakpoint
CREATE INDEX "revision_acteurs_parent_idx" ON "consolidation"."revision_acteurs" USING btree ("parent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "suggestion_cohortes_run_type_key" ON "consolidation"."suggestion_cohortes" USING btree ("identifiant_action","identifiant_execution","type_action");--> statement-breakpoint
CREATE INDEX "suggestion_cohortes_created_idx" ON "consolidation"."suggestion_cohortes" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "suggestion_logs_run_idx" ON "consolidation"."suggestion_logs" USING btree ("identifiant_execution");--> statement-breakpoint
CREATE INDEX "suggestion_logs_created_idx" ON "consolidation"."suggestion_logs" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "suggestions_cohorte_cle_key" ON "consolidation"."suggestions" USING btree ("cohorte_id","cle");--> statement-breakpoint
CREATE INDEX "suggestions_statut_idx" ON "consolidation"."suggestions" USING btree ("statut","id");--> statement-breakpoint
ALTER TABLE "consolidation"."acteurs" ADD CONSTRAINT "acteurs_statut_check" CHECK ("statut" IN ('ACTIF', 'INACTIF', 'SUPPRIME'));--> statement-breakpoint
ALTER TABLE "consolidation"."revision_acteurs" ADD CONSTRAINT "revision_acteurs_statut_check" CHECK ("statut" IS NULL OR "statut" IN ('ACTIF', 'INACTIF', 'SUPPRIME'));--> statement-breakpoint
ALTER TABLE "consolidation"."suggestions" ADD CONSTRAINT "suggestions_statut_check" CHECK ("statut" IN ('AVALIDER', 'ATRAITER', 'REJETEE', 'ENCOURS', 'SUCCES', 'ERREUR'));--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_cohortes" ADD CONSTRAINT "suggestion_cohortes_statut_check" CHECK ("statut" IN ('AVALIDER', 'ENCOURS', 'SUCCES'));--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_logs" ADD CONSTRAINT "suggestion_logs_niveau_check" CHECK ("niveau" IN ('WARNING', 'ERROR'));--> statement-breakpoint
CREATE FUNCTION "consolidation"."suggestions_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.changes IS DISTINCT FROM OLD.changes OR NEW.contexte IS DISTINCT FROM OLD.contexte
     OR NEW.cohorte_id IS DISTINCT FROM OLD.cohorte_id OR NEW.cle IS DISTINCT FROM OLD.cle THEN
    RAISE EXCEPTION 'suggestion % is immutable: only its statut and metadata change', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "suggestions_immutable" BEFORE UPDATE ON "consolidation"."suggestions" FOR EACH ROW EXECUTE FUNCTION "consolidation"."suggestions_immutable"();
