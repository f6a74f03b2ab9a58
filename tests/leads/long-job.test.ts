/**
 * A long job: continue-as-new every few batches with its flags and counts, signals still heard in the
 * new runs, and the determinism guard: recorded histories of leadsJob (paused, resumed, continued as
 * new) replay against the current code. `RECORD_HISTORIES=1` records them anew (on purpose only).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { WorkflowStartOptions } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { createJob, getJob, pauseJob, resumeJob, workflowIdFor } from '../../control/leads-jobs';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import type { LeadsJobInput, LeadsJobResult } from '../../workflows/leads';
import { siteEmails, sitePageCount } from '../replicas/leads/index';
import { workflowBundle } from '../support/services';
import { createLeadsWorld, eventually, type LeadsWorld } from './harness';

const historiesDir = new URL('./histories/', import.meta.url);
let world: LeadsWorld;

before(async () => {
  world = await createLeadsWorld();
});
after(async () => {
  await world?.close();
});

test('a long job continues as new with its state, and is paused and resumed across runs', async () => {
  const sites = world.replica.businesses.slice(0, 4);
  const control = world.jobControl();
  world.replica.setLatency(60);
  try {
    const r = await world.withWorker(
      async () => {
        // The job as createJob creates it (its row, its workflow id and search attributes), the workflow
        // started with a small run length so it continues as new every 3 batches.
        let firstRunId = '';
        const shortRuns = {
          workflow: {
            start: async (type: string, opts: WorkflowStartOptions) => {
              const h = await world.temporal.client.workflow.start(type, { ...opts, args: [{ ...(opts.args![0] as LeadsJobInput), batchPages: 2, batchesPerRun: 3 }] });
              firstRunId = h.firstExecutionRunId;
              return h;
            },
          },
        };
        await createJob({ ...control, client: shortRuns as never }, {
          id: 'long',
          sourceType: 'custom_urls',
          config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2 },
        });
        const handle = world.temporal.client.workflow.getHandle(workflowIdFor('long'));
        await eventually(async () => (await handle.describe()).runId !== firstRunId || undefined);
        await pauseJob(control, 'long');
        await eventually(async () => (await getJob(control, 'long')).status === 'paused' || undefined);
        await resumeJob(control, 'long');
        return (await handle.result()) as LeadsJobResult;
      },
      { env: { LEADS_CRAWL_CONCURRENCY: '1' } },
    );
    assert.equal(r.status, 'completed');
    assert.equal(r.counts.pagesDone, sites.length * sitePageCount(2));
    const emails = await world.db.sql<{ email: string }[]>`select email from leads.scraped_contacts where job_id = 'long' and email is not null order by email`;
    assert.deepEqual(emails.map((e) => e.email), sites.flatMap((b) => siteEmails(b, 2)).sort());
    // Runs of the chain: 28 pages, 2 a batch, 3 batches a run.
    const runs: string[] = [];
    for await (const w of world.temporal.client.workflow.list({ query: `WorkflowId = '${workflowIdFor('long')}'` })) runs.push(w.runId);
    assert.ok(runs.length >= 4, `${runs.length} runs`);
    // Continue-as-new keeps the run's search attributes: every run of the chain, not only the first, is
    // found by the pipeline, the job and its source type, as the Web UI and `temporal workflow list` filter.
    const labelled = await eventually(async () => {
      const found: { runId: string; status: string; labels: (string | undefined)[] }[] = [];
      for await (const w of world.temporal.client.workflow.list({ query: "MoissonPipeline = 'leads' AND MoissonJobId = 'long' AND MoissonSource = 'custom_urls'" })) {
        const labels = [SEARCH_ATTRIBUTES.pipeline, SEARCH_ATTRIBUTES.jobId, SEARCH_ATTRIBUTES.source].map((k) => w.typedSearchAttributes.get(k));
        found.push({ runId: w.runId, status: w.status.name, labels });
      }
      return found.length === runs.length ? found : undefined;
    }, 250);
    assert.deepEqual(labelled.map((w) => w.runId).sort(), [...runs].sort());
    assert.deepEqual(new Set(labelled.map((w) => w.labels.join(' '))), new Set(['leads long custom_urls']));
    assert.deepEqual(new Set(labelled.map((w) => w.status)), new Set(['CONTINUED_AS_NEW', 'COMPLETED']));

    // Every run of the chain replays: the first (continued as new), the paused and resumed ones, the last.
    const bundle = await workflowBundle();
    for (const [i, runId] of [...runs].reverse().entries()) {
      const history = await world.temporal.client.workflow.getHandle(workflowIdFor('long'), runId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowIdFor('long'));
      if (process.env.RECORD_HISTORIES === '1') {
        const json = JSON.parse(historyToJSON(history)) as unknown;
        writeFileSync(new URL(`leadsJob-long-run${i + 1}.json`, historiesDir), `${JSON.stringify({ workflowId: workflowIdFor('long'), history: json }, null, 1)}\n`);
      }
    }
  } finally {
    world.replica.setLatency(0);
  }
});

test('the committed leadsJob histories replay against the current code', async () => {
  const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 1, `expected recorded histories in ${historiesDir.pathname}`);
  const bundle = await workflowBundle();
  for (const file of files) {
    const { workflowId, history } = JSON.parse(readFileSync(new URL(file, historiesDir), 'utf8')) as { workflowId: string; history: unknown };
    await Worker.runReplayHistory({ workflowBundle: bundle }, historyFromJSON(history), workflowId);
  }
});
