/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL (the local stack by default). */
import { loadCoreConfig, redactConfig } from '../schema/config';
import { migrateDatabase } from './db/migrate';

const { databaseUrl } = loadCoreConfig();
await migrateDatabase(databaseUrl);
console.log(`migrations applied to ${String(redactConfig(databaseUrl))}`);
