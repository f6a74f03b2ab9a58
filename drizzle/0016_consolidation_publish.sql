-- The merged state of each acteur (QFDMOD's int_acteur): the imported row with the reviewed overlay over it.
-- A view, always current: clustering reads its candidates from it, the publish refresh its rows.
-- Text fields take a non-empty revision value over the imported one (an empty revision never blanks a
-- value); a parent exists in revision only and is ACTIF unless its revision says otherwise (QFDMOD's
-- revision default).
CREATE VIEW "consolidation"."vue_acteurs" AS
SELECT
	coalesce(r.identifiant_unique, a.identifiant_unique) AS identifiant_unique,
	coalesce(nullif(r.source_code, ''), a.source_code, '') AS source_code,
	coalesce(nullif(r.identifiant_externe, ''), a.identifiant_externe, '') AS identifiant_externe,
	coalesce(nullif(r.nom, ''), a.nom, '') AS nom,
	coalesce(nullif(r.nom_commercial, ''), a.nom_commercial, '') AS nom_commercial,
	coalesce(nullif(r.nom_officiel, ''), a.nom_officiel, '') AS nom_officiel,
	coalesce(nullif(r.description, ''), a.description, '') AS description,
	coalesce(nullif(r.adresse, ''), a.adresse, '') AS adresse,
	coalesce(nullif(r.adresse_complement, ''), a.adresse_complement, '') AS adresse_complement,
	coalesce(nullif(r.code_postal, ''), a.code_postal, '') AS code_postal,
	coalesce(nullif(r.ville, ''), a.ville, '') AS ville,
	coalesce(r.latitude, a.latitude) AS latitude,
	coalesce(r.longitude, a.longitude) AS longitude,
	coalesce(nullif(r.siret, ''), a.siret, '') AS siret,
	coalesce(nullif(r.siren, ''), a.siren, '') AS siren,
	coalesce(nullif(r.naf_principal, ''), a.naf_principal, '') AS naf_principal,
	coalesce(nullif(r.telephone, ''), a.telephone, '') AS telephone,
	coalesce(nullif(r.email, ''), a.email, '') AS email,
	coalesce(nullif(r.url, ''), a.url, '') AS url,
	coalesce(nullif(r.horaires_osm, ''), a.horaires_osm, '') AS horaires_osm,
	coalesce(nullif(r.horaires_description, ''), a.horaires_description, '') AS horaires_description,
	coalesce(nullif(r.acteur_type_code, ''), a.acteur_type_code, '') AS acteur_type_code,
	coalesce(nullif(r.statut, ''), a.statut, 'ACTIF') AS statut,
	coalesce(nullif(r.public_accueilli, ''), a.public_accueilli, '') AS public_accueilli,
	coalesce(nullif(r.reprise, ''), a.reprise, '') AS reprise,
	coalesce(r.exclusivite_de_reprisereparation, a.exclusivite_de_reprisereparation) AS exclusivite_de_reprisereparation,
	coalesce(r.uniquement_sur_rdv, a.uniquement_sur_rdv) AS uniquement_sur_rdv,
	coalesce(nullif(r.lieu_prestation, ''), a.lieu_prestation, '') AS lieu_prestation,
	coalesce(r.label_codes, a.label_codes, '{}'::text[]) AS label_codes,
	coalesce(r.acteur_service_codes, a.acteur_service_codes, '{}'::text[]) AS acteur_service_codes,
	coalesce(r.proposition_service_codes, a.proposition_service_codes, '[]'::jsonb) AS proposition_service_codes,
	coalesce(r.perimetre_adomicile_codes, a.perimetre_adomicile_codes) AS perimetre_adomicile_codes,
	coalesce(nullif(r.consignes_dacces, ''), a.consignes_dacces, '') AS consignes_dacces,
	coalesce(nullif(r.commentaires, ''), a.commentaires, '') AS commentaires,
	coalesce(a.cree_le, r.cree_le) AS cree_le,
	greatest(a.modifie_le, r.modifie_le) AS modifie_le,
	r.parent_id AS parent_id,
	coalesce(r.est_parent, false) AS est_parent,
	r.identifiant_unique IS NOT NULL AS revision_existe,
	a.identifiant_unique IS NOT NULL AS acteur_existe
FROM "consolidation"."acteurs" a
FULL JOIN "consolidation"."revision_acteurs" r ON r.identifiant_unique = a.identifiant_unique;
--> statement-breakpoint
-- The published acteurs, one set per perimeter: 'carte' (the map) and 'opendata' (openly licensed
-- sources only). Parents only, children's services rolled up; rebuilt whole by consolidationPublish.
CREATE TABLE "consolidation"."acteurs_affiches" (
	"perimetre" text NOT NULL,
	"identifiant_unique" text NOT NULL,
	"uuid" text NOT NULL,
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
	"public_accueilli" text,
	"reprise" text,
	"exclusivite_de_reprisereparation" boolean,
	"uniquement_sur_rdv" boolean,
	"lieu_prestation" text,
	"label_codes" text[] NOT NULL,
	"acteur_service_codes" text[] NOT NULL,
	"proposition_service_codes" jsonb NOT NULL,
	"sources" jsonb NOT NULL,
	"source_codes" text[] NOT NULL,
	"est_parent" boolean NOT NULL,
	"nombre_enfants" integer NOT NULL,
	"cree_le" timestamp with time zone,
	"modifie_le" timestamp with time zone,
	"publie_le" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "acteurs_affiches_pkey" PRIMARY KEY ("perimetre", "identifiant_unique"),
	CONSTRAINT "acteurs_affiches_perimetre_check" CHECK ("perimetre" IN ('carte', 'opendata'))
);
--> statement-breakpoint
CREATE INDEX "acteurs_affiches_cp_idx" ON "consolidation"."acteurs_affiches" ("perimetre", "code_postal");
--> statement-breakpoint
-- One row per ISO week and source ('*' = all sources): the stacked history the statistics pages read.
CREATE TABLE "consolidation"."statistiques_hebdo" (
	"semaine" text NOT NULL,
	"source_code" text NOT NULL,
	"acteurs" integer NOT NULL,
	"acteurs_actifs" integer NOT NULL,
	"revisions" integer NOT NULL,
	"parents" integer NOT NULL,
	"enfants" integer NOT NULL,
	"affiches_carte" integer NOT NULL,
	"affiches_opendata" integer NOT NULL,
	"avec_siret" integer NOT NULL,
	"avec_siren" integer NOT NULL,
	"suggestions_en_attente" integer NOT NULL,
	"calcule_le" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "statistiques_hebdo_pkey" PRIMARY KEY ("semaine", "source_code")
);
--> statement-breakpoint
-- One row per ISO week and format of the open-data export, written once its row count matched the database.
CREATE TABLE "consolidation"."exports_opendata" (
	"semaine" text NOT NULL,
	"format" text NOT NULL,
	"chemin" text NOT NULL,
	"lignes" integer NOT NULL,
	"octets" bigint NOT NULL,
	"sha256" text NOT NULL,
	"exporte_le" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "exports_opendata_pkey" PRIMARY KEY ("semaine", "format"),
	CONSTRAINT "exports_opendata_format_check" CHECK ("format" IN ('csv', 'geojson'))
);
