-- Consultation lists without the response cache (issue 13, cold path).
-- Open consultations (no award outcome yet) in publication order: `statut=en_cours` sorted by
-- publication walks them newest first and stops at its page (open consultations are the recently
-- published ones: the first page reads ~50 rows), where the deadline index read every open deadline
-- (1,377 heap rows on the bench's 100k) and sorted them. `cloturee` walks the same index.
-- api/pmmp/queries.ts writes the deadline test so that the planner takes this walk.
CREATE INDEX consultations_open_published_idx ON pmmp.consultations (published_on, org_acronyme, ref_consultation) WHERE award_outcome IS NULL;
--> statement-breakpoint
-- Consultations of one organisation in each list order, as 0026 did for attributions and PV: an
-- organisation given by its acronym (the API checks that its text names no other buyer) is
-- `lower(org_acronyme) = …`, and its page is a range of (lower(acronym), sort column, key) walked in
-- order, not a bitmap of its 2,000-13,000 consultations sorted. They replace the plain lower(acronym)
-- index, their common prefix (the organisation key sets of attributions and PV probe it too).
CREATE INDEX consultations_org_published_idx ON pmmp.consultations (lower(org_acronyme), published_on, org_acronyme, ref_consultation);
--> statement-breakpoint
CREATE INDEX consultations_org_deadline_idx ON pmmp.consultations (lower(org_acronyme), deadline, org_acronyme, ref_consultation);
--> statement-breakpoint
CREATE INDEX consultations_org_estimation_idx ON pmmp.consultations (lower(org_acronyme), estimation_ttc, org_acronyme, ref_consultation);
--> statement-breakpoint
DROP INDEX pmmp.consultations_org_lower_idx;
--> statement-breakpoint
-- The buyer-name trigram index takes new entries in a pending list that every search through it
-- reads in full until a vacuum or the list's limit (4 MB by default) merges it: 414 pages after the
-- award-state updates of the bench's data set, 1-2 ms on each organisation filter. A 64 kB limit
-- bounds that read to 8 pages; writers merge a little more often.
ALTER INDEX pmmp.consultations_buyer_fold_idx SET (gin_pending_list_limit = 64);
--> statement-breakpoint
SELECT gin_clean_pending_list('pmmp.consultations_buyer_fold_idx'::regclass);
--> statement-breakpoint
-- The planner's estimate of an organisation's rows comes from its lower(org_acronyme) expression
-- statistics, which went with the dropped index: gathered again for the new ones (a sample: bounded
-- whatever the table's size).
ANALYZE pmmp.consultations;
