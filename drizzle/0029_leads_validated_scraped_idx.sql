-- The console's contact list and detail (api/leads/data.ts) join validated_contacts on
-- scraped_contact_id (`left join … on v.scraped_contact_id = s.id`), and deleting a scraped contact
-- cascades to it. Without an index every read of it scanned the table (EXPLAIN ANALYZE on 100k
-- scraped / 50k validated contacts: a contact's detail 3.9 ms with a Seq Scan, 0.05 ms with an Index
-- Scan; a list page of 50, 45 ms → 0.08 ms; filtered by domain, a hash join over every validated
-- contact, 78 ms → 5.9 ms).
CREATE INDEX IF NOT EXISTS "validated_contacts_scraped_contact_idx" ON "leads"."validated_contacts" USING btree ("scraped_contact_id");
