-- The console's contact list and detail (api/leads/data.ts) join validated_contacts on
-- scraped_contact_id (`left join … on v.scraped_contact_id = s.id`), and deleting a scraped contact
-- cascades to it. Without an index one contact's detail read the whole table (EXPLAIN ANALYZE on 100k
-- scraped / 50k validated contacts: Seq Scan on validated_contacts, 3.6 ms; with it an Index Scan,
-- 0.05 ms), and a filtered list page joined by hashing every validated contact.
CREATE INDEX IF NOT EXISTS "validated_contacts_scraped_contact_idx" ON "leads"."validated_contacts" USING btree ("scraped_contact_id");
