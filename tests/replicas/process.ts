/**
 * What every replica's `main.ts` does to run as its own process (the stack, the demo and the bench
 * start them this way): read `--name value` / `--name=value` options, refuse bad ones with exit 2,
 * print one "listening" line when ready, close cleanly on SIGTERM or SIGINT.
 */
export interface ReplicaProcess {
  option(name: string): string | undefined;
  fail(message: string): never;
  /** `--port`, else the environment variable, else the default. */
  port(envVariable: string, fallback: number): number;
  /** A whole number option (or environment variable), undefined when absent. */
  count(name: string, text: string | undefined): number | undefined;
  /** Starts the replica, prints `<label> listening on <url>[ note]`, and stops it on a signal. */
  serve(start: () => Promise<{ url: string; close(): Promise<void>; note?: string }>): Promise<void>;
}

export function replicaProcess(label: string, argv = process.argv.slice(2)): ReplicaProcess {
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const fail = (message: string): never => {
    process.stderr.write(`${label}: ${message}\n`);
    process.exit(2);
  };
  return {
    option,
    fail,
    port(envVariable, fallback) {
      const text = option('port') ?? process.env[envVariable] ?? String(fallback);
      const port = Number(text);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`not a port: ${JSON.stringify(text)}`);
      return port;
    },
    count(name, text) {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
      return n;
    },
    async serve(start) {
      try {
        const replica = await start();
        process.stdout.write(`${label} listening on ${replica.url}${replica.note ? ` ${replica.note}` : ''}\n`);
        const stop = () => {
          replica.close().then(
            () => process.exit(0),
            (e: unknown) => fail(`could not close cleanly: ${String(e)}`),
          );
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    },
  };
}
