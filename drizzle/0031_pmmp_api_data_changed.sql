-- The API keeps serialized answers of its procurement reads (list, search, detail, attributions, PV) and
-- drops them when the data they were read from changes (api/response-cache.ts). Every statement that
-- writes one of the tables those reads touch notifies `pmmp_data_changed`; the payload is constant, so
-- PostgreSQL folds a transaction's notifications into one, delivered at its commit.
CREATE FUNCTION pmmp.notify_data_changed() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pmmp_data_changed', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER consultations_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.consultations
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
--> statement-breakpoint
CREATE TRIGGER consultation_search_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.consultation_search
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
--> statement-breakpoint
CREATE TRIGGER lots_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.lots
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
--> statement-breakpoint
CREATE TRIGGER notices_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.notices
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
--> statement-breakpoint
CREATE TRIGGER attributions_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.attributions
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
--> statement-breakpoint
CREATE TRIGGER bids_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmmp.bids
  FOR EACH STATEMENT EXECUTE FUNCTION pmmp.notify_data_changed();
