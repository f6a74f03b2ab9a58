/**
 * The demo's SaaS API sync step, against the local Pennylane replica the stack runs: a full sync of
 * every stream, a few changes made on the replica, an incremental sync that applies them, and the
 * status. It drives `moisson` itself (the same commands a user types), on whatever worker serves the
 * task queue in the environment; the worker must have PENNYLANE_API_URL pointing at the replica.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connectPostgres } from '../../activities/engine/db';
import { main } from '../cli';

const SOURCE = 'pennylane';

/**
 * A scheduled run (`apisync-pennylane`, every 10 minutes) may hold the source's lease: the demo's run
 * would end `skipped`. Wait for it, a while.
 */
async function leaseFree(databaseUrl: string, say: (line?: string) => void, maxMs = 180_000): Promise<void> {
  const pg = connectPostgres(databaseUrl, { max: 1 });
  try {
    const deadline = Date.now() + maxMs;
    let told = false;
    for (;;) {
      const [held] = await pg.sql<{ workflow_id: string }[]>`
        select workflow_id from apisync.run_leases where source = ${SOURCE} and not released and expires_at > now()`;
      if (!held) return;
      if (Date.now() > deadline) {
        say(`demo: ${held.workflow_id} still holds the ${SOURCE} run lease; the run below may end skipped`);
        return;
      }
      if (!told) say(`demo: waiting for ${held.workflow_id} (a scheduled run) to release the ${SOURCE} run lease`);
      told = true;
      await sleep(2_000);
    }
  } finally {
    await pg.close();
  }
}

/** Inserts, updates and deletions on the replica (its `/__replica/mutate` knob), each one a change-feed event. */
async function changeReplica(apiUrl: string, say: (line?: string) => void): Promise<boolean> {
  const control = `${new URL(apiUrl).origin}/__replica/mutate`;
  const changes = [
    { resource: 'customer_invoices', insert: 5, update: 8, delete: 3 },
    { resource: 'customers', insert: 2, update: 3 },
    { resource: 'transactions', insert: 4, delete: 1 },
  ];
  try {
    for (const c of changes) {
      const res = await fetch(control, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) });
      if (!res.ok) throw new Error(`${control} answered ${res.status}`);
      const done = (await res.json()) as { inserted: number[]; updated: number[]; deleted: number[] };
      say(`demo:   ${c.resource}: ${done.inserted.length} inserted, ${done.updated.length} updated, ${done.deleted.length} deleted`);
    }
    return true;
  } catch (err) {
    say(`demo: cannot change the replica at ${control} (${(err as Error).message}): the incremental run will find nothing new`);
    return false;
  }
}

/** Runs the step; the exit code left is the worst of its commands' (each `main()` sets its own). */
export async function demoApisync(env: { databaseUrl: string; pennylaneApiUrl: string }, say: (line?: string) => void): Promise<void> {
  let worst = Number(process.exitCode ?? 0);
  const moisson = async (...args: string[]) => {
    await main(['node', 'moisson', ...args]);
    worst = Math.max(worst, Number(process.exitCode ?? 0));
  };
  say(`demo: the SaaS API sync against the local replica of Pennylane v2 (${env.pennylaneApiUrl}), under its 25 requests / 5 s`);
  await leaseFree(env.databaseUrl, say);
  say('demo: a full sync of every stream (npx moisson apisync run --mode full --sync)');
  await moisson('apisync', 'run', '--mode', 'full', '--sync');
  say();
  say('demo: changes on the replica, each one an event of its change feed:');
  await changeReplica(env.pennylaneApiUrl, say);
  await leaseFree(env.databaseUrl, say);
  say('demo: an incremental sync: the change feeds since the watermarks, changed records re-read by id, deletions applied (npx moisson apisync run --mode incremental --sync)');
  await moisson('apisync', 'run', '--mode', 'incremental', '--sync');
  say();
  say('demo: where each stream stands (npx moisson apisync status)');
  await moisson('apisync', 'status');
  process.exitCode = worst;
}
