import { defineConfig } from 'drizzle-kit';
import { loadCoreConfig } from './schema/config';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./schema/*/tables.ts', './schema/etl/proofs.ts'],
  out: './drizzle',
  schemaFilter: ['etl', 'prices', 'pmmp', 'apisync', 'leads', 'consolidation'],
  dbCredentials: { url: loadCoreConfig().databaseUrl },
  strict: true,
  verbose: true,
});
