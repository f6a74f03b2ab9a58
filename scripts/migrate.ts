/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL (the local stack by default). */
import { loadCoreConfig, redactConfig } from '../schema/config';
import { migrateDatabase } from './db/migrate';

const { databaseUrl } = loadCoreConfig();
const { applied, alreadyRecorded } = await migrateDatabase(databaseUrl);
console.log(`migrations on ${String(redactConfig(databaseUrl))}: ${alreadyRecorded} already applied, ${applied.length} applied now${applied.length ? ` (${applied.join(', ')})` : ''}`);
