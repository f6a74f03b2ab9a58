-- The console's contact list and detail (api/leads/data.ts) join validated_contacts on
-- scraped_contact_id (`left join … on v.scraped_contact_id = s.id`), and deleting a scraped contact
-- cascades to it: without an index each lookup read the whole table (EXPLAIN: Seq Scan on
-- validated_contacts for one contact's detail).
CREATE INDEX IF NOT EXISTS "validated_contacts_scraped_contact_idx" ON "leads"."validated_contacts" USING btree ("scraped_contact_id");
