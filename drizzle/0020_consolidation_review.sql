-- Review decisions are logged next to the normalisation logs: an INFO level, who decided, and the
-- indexes the review screens read by (a cohort's suggestions by status in id order; a suggestion's history).
ALTER TABLE "consolidation"."suggestion_logs" DROP CONSTRAINT "suggestion_logs_niveau_check";--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_logs" ADD CONSTRAINT "suggestion_logs_niveau_check" CHECK ("niveau" IN ('INFO', 'WARNING', 'ERROR'));--> statement-breakpoint
ALTER TABLE "consolidation"."suggestion_logs" ADD COLUMN "auteur" text;--> statement-breakpoint
CREATE INDEX "suggestion_logs_suggestion_idx" ON "consolidation"."suggestion_logs" USING btree ("suggestion_id");--> statement-breakpoint
CREATE INDEX "suggestions_cohorte_statut_idx" ON "consolidation"."suggestions" USING btree ("cohorte_id","statut","id");
