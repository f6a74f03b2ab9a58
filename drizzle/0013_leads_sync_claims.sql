-- A MailWizz claim belongs to one batch (workflow, run, activity): a retried attempt of that batch takes
-- back what its killed attempt left `syncing`, and the batch's totals are counted from its sync_log rows.
ALTER TABLE "leads"."validated_contacts" ADD COLUMN "sync_claim" text;--> statement-breakpoint
ALTER TABLE "leads"."validated_contacts" ADD COLUMN "sync_create_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "leads"."sync_log" ADD COLUMN "claim" text;--> statement-breakpoint
CREATE INDEX "validated_contacts_sync_claim_idx" ON "leads"."validated_contacts" USING btree ("sync_claim") WHERE "leads"."validated_contacts"."sync_claim" is not null;--> statement-breakpoint
CREATE INDEX "sync_log_claim_idx" ON "leads"."sync_log" USING btree ("claim") WHERE "leads"."sync_log"."claim" is not null;
