-- Open consultations oldest first without a walk in publication order (issue 13). Their list reads
-- every open consultation's key and day from this index alone (index-only: the open deadlines are a
-- range of it, a few thousand entries per 100k consultations) and sorts them; only the page's rows are
-- then read (api/pmmp/queries.ts). Through the plain deadline index each open row was a heap page: on
-- a data set stored in another physical order than publication (a faster generator at 1M), that was
-- one page per open consultation, and PostgreSQL preferred walking 0021's index from the oldest
-- consultations without an outcome.
CREATE INDEX consultations_open_deadline_idx ON pmmp.consultations (deadline) INCLUDE (published_on, org_acronyme, ref_consultation) WHERE award_outcome IS NULL;
