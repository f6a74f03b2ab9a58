CREATE SCHEMA "leads";
--> statement-breakpoint
CREATE TABLE "leads"."articles" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"fingerprint" text NOT NULL,
	"url" text NOT NULL,
	"title" text,
	"author" text,
	"published_at" timestamp with time zone,
	"language" text,
	"text" text NOT NULL,
	"excerpt" text,
	"word_count" integer NOT NULL,
	"readability" real,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."domain_blacklist" (
	"domain" text PRIMARY KEY NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"bounced" integer DEFAULT 0 NOT NULL,
	"manual_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."error_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" text,
	"url" text,
	"kind" text NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."frontier" (
	"job_id" text NOT NULL,
	"fingerprint" text NOT NULL,
	"seq" bigserial NOT NULL,
	"url" text NOT NULL,
	"kind" text NOT NULL,
	"depth" integer DEFAULT 0 NOT NULL,
	"context" jsonb,
	"state" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"discovered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone,
	CONSTRAINT "frontier_pkey" PRIMARY KEY("job_id","fingerprint")
);
--> statement-breakpoint
CREATE TABLE "leads"."jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"source_type" text NOT NULL,
	"config" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"workflow_id" text NOT NULL,
	"pages_done" integer DEFAULT 0 NOT NULL,
	"pages_queued" integer DEFAULT 0 NOT NULL,
	"contacts_found" integer DEFAULT 0 NOT NULL,
	"errors_count" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "leads"."mx_cache" (
	"domain" text PRIMARY KEY NOT NULL,
	"verdict" text NOT NULL,
	"hosts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."scraped_contacts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"dedup_key" text NOT NULL,
	"email" text,
	"name" text,
	"company" text,
	"phones" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"socials" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"website" text,
	"address" text,
	"domain" text,
	"source_url" text NOT NULL,
	"hints" text,
	"status" text DEFAULT 'new' NOT NULL,
	"reason" text,
	"claim_token" text,
	"claimed_at" timestamp with time zone,
	"validated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."sync_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"validated_contact_id" bigint NOT NULL,
	"email" text NOT NULL,
	"list_uid" text NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"http_status" integer,
	"subscriber_uid" text,
	"error" text,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."url_fingerprints" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"first_job_id" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leads"."validated_contacts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"scraped_contact_id" bigint NOT NULL,
	"job_id" text NOT NULL,
	"first_name" text,
	"last_name" text,
	"company" text,
	"phone" text,
	"domain" text NOT NULL,
	"category" text NOT NULL,
	"category_scores" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"platform" text NOT NULL,
	"list_uid" text NOT NULL,
	"template" text NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mx_hosts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"validated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sync_status" text DEFAULT 'pending' NOT NULL,
	"sync_attempts" integer DEFAULT 0 NOT NULL,
	"next_sync_at" timestamp with time zone,
	"sync_claimed_at" timestamp with time zone,
	"subscriber_uid" text,
	"synced_at" timestamp with time zone,
	"last_sync_error" text
);
--> statement-breakpoint
CREATE TABLE "leads"."whois_cache" (
	"domain" text PRIMARY KEY NOT NULL,
	"found" boolean NOT NULL,
	"registrar" text,
	"registered_at" timestamp with time zone,
	"expires_on" timestamp with time zone,
	"nameservers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"raw" jsonb,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "leads"."articles" ADD CONSTRAINT "articles_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "leads"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leads"."frontier" ADD CONSTRAINT "frontier_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "leads"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leads"."scraped_contacts" ADD CONSTRAINT "scraped_contacts_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "leads"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leads"."sync_log" ADD CONSTRAINT "sync_log_validated_contact_id_validated_contacts_id_fk" FOREIGN KEY ("validated_contact_id") REFERENCES "leads"."validated_contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leads"."validated_contacts" ADD CONSTRAINT "validated_contacts_scraped_contact_id_scraped_contacts_id_fk" FOREIGN KEY ("scraped_contact_id") REFERENCES "leads"."scraped_contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "articles_fingerprint_uq" ON "leads"."articles" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "articles_job_idx" ON "leads"."articles" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "articles_published_idx" ON "leads"."articles" USING btree ("published_at");--> statement-breakpoint
CREATE INDEX "error_log_job_idx" ON "leads"."error_log" USING btree ("job_id","created_at");--> statement-breakpoint
CREATE INDEX "frontier_job_state_seq_idx" ON "leads"."frontier" USING btree ("job_id","state","seq");--> statement-breakpoint
CREATE INDEX "jobs_status_created_idx" ON "leads"."jobs" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "jobs_created_idx" ON "leads"."jobs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "mx_cache_expires_idx" ON "leads"."mx_cache" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "scraped_contacts_job_key_uq" ON "leads"."scraped_contacts" USING btree ("job_id","dedup_key");--> statement-breakpoint
CREATE INDEX "scraped_contacts_status_id_idx" ON "leads"."scraped_contacts" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "scraped_contacts_email_idx" ON "leads"."scraped_contacts" USING btree ("email");--> statement-breakpoint
CREATE INDEX "sync_log_created_idx" ON "leads"."sync_log" USING btree ("created_at","outcome");--> statement-breakpoint
CREATE INDEX "sync_log_contact_idx" ON "leads"."sync_log" USING btree ("validated_contact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "validated_contacts_email_uq" ON "leads"."validated_contacts" USING btree ("email");--> statement-breakpoint
CREATE INDEX "validated_contacts_sync_idx" ON "leads"."validated_contacts" USING btree ("sync_status","id");--> statement-breakpoint
CREATE INDEX "validated_contacts_category_idx" ON "leads"."validated_contacts" USING btree ("category");