-- Issue 14: where each award value was read and how sure the parser is. A winner or amount read
-- with low confidence is stored flagged (low_confidence), not presented as fact.
ALTER TABLE "pmmp"."attributions" ADD COLUMN "winner_confidence" real;
--> statement-breakpoint
ALTER TABLE "pmmp"."attributions" ADD COLUMN "amount_confidence" real;
--> statement-breakpoint
ALTER TABLE "pmmp"."attributions" ADD COLUMN "low_confidence" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE "pmmp"."attributions" ADD COLUMN "provenance" jsonb;
