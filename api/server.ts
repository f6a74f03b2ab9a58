/**
 * `npm run api`: the REST API on API_HOST:API_PORT (default 127.0.0.1:8090), Swagger UI at /docs.
 * A configuration error exits with code 3 and lists every bad variable, a database that lacks migrations
 * exits 3 naming them; SIGINT/SIGTERM close cleanly.
 */
import { ConfigError } from '../schema/config';
import { migrationsOrExit } from '../workers/startup';
import { buildApp } from './app';
import { createApiRuntime } from './runtime';

async function main(): Promise<void> {
  let runtime;
  try {
    runtime = createApiRuntime();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(3);
    }
    throw err;
  }
  await migrationsOrExit({ fatal: (m) => console.error(m), warn: (m) => console.warn(m) }, runtime.core.databaseUrl);
  const app = await buildApp(runtime.ctx, {
    logger: { level: runtime.core.logLevel, redact: ['req.headers["x-api-key"]', 'req.headers["x-signature"]'] },
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing');
    void app
      .close()
      .then(() => runtime.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  const { host, port } = runtime.ctx.config;
  await app.listen({ host, port });
  app.log.info(`moisson API listening on http://${host}:${port} (docs: http://${host}:${port}/docs)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
