/**
 * Grafana dashboards as code: an overview and one dashboard per pipeline, built with Grafana's foundation
 * SDK and written as JSON into deploy/grafana/dashboards/ (provisioned by the compose file).
 *   npx tsx scripts/ops/dashboards.ts          write the files
 *   npx tsx scripts/ops/dashboards.ts --check  exit 1 when the committed files differ from the code
 * tests/ops/deploy.test.ts checks that every query names a metric the code exports.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DashboardBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

const PROMETHEUS = { type: 'prometheus', uid: 'moisson-prometheus' };
export const dashboardsDir = fileURLToPath(new URL('../../deploy/grafana/dashboards', import.meta.url));

interface Query {
  expr: string;
  legend?: string;
}
interface PanelSpec {
  title: string;
  unit?: string;
  queries: Query[];
  kind?: 'timeseries' | 'stat';
  description?: string;
}

function target(q: Query, i: number) {
  const t = new DataqueryBuilder().expr(q.expr).refId(String.fromCharCode(65 + i)).datasource(PROMETHEUS);
  return q.legend ? t.legendFormat(q.legend) : t;
}

function panel(spec: PanelSpec) {
  const p = spec.kind === 'stat' ? new StatPanel().height(5).span(6) : new TimeseriesPanel().height(8).span(12);
  p.title(spec.title).datasource(PROMETHEUS);
  if (spec.description) p.description(spec.description);
  if (spec.unit) p.unit(spec.unit);
  spec.queries.forEach((q, i) => p.withTarget(target(q, i)));
  return p;
}

/** The source hosts a dashboard's request panels show (the fetcher labels requests by host, not pipeline). */
const hostVariable = () =>
  new QueryVariableBuilder('host')
    .label('Source host')
    .datasource(PROMETHEUS)
    .query('label_values(moisson_http_requests_total, host)')
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.*');

function dashboard(uid: string, title: string, rows: { title: string; panels: PanelSpec[] }[]) {
  const d = new DashboardBuilder(title).uid(uid).tags(['moisson']).refresh('30s').time({ from: 'now-24h', to: 'now' }).timezone('browser');
  if (rows.some((r) => r.panels.some((p) => p.queries.some((q) => q.expr.includes('$host'))))) d.withVariable(hostVariable());
  for (const row of rows) {
    d.withRow(new RowBuilder(row.title));
    for (const p of row.panels) d.withPanel(panel(p));
  }
  return d.build();
}

/** Items extracted, saved and rejected by one pipeline, the requests it sends and its runs. */
function pipelineRows(pipeline: string, itemsTitle: string) {
  return [
    {
      title: 'Items',
      panels: [
        { title: itemsTitle, unit: 'short', queries: [{ expr: `sum by (kind, result) (increase(moisson_items_total{pipeline="${pipeline}"}[$__rate_interval]))`, legend: '{{kind}} {{result}}' }] },
        {
          title: 'Rejected records by kind and reason',
          unit: 'short',
          description: 'reason: invalid_field, shape_changed, database_refused, fetch_failed, unreadable_document, url_refused (the free text is in etl.rejected_records)',
          queries: [{ expr: `sum by (kind, reason) (increase(moisson_items_total{pipeline="${pipeline}",result="rejected"}[$__rate_interval]))`, legend: '{{kind}} {{reason}}' }],
        },
      ],
    },
    {
      title: 'Runs',
      panels: [
        { title: 'Runs by outcome', unit: 'short', queries: [{ expr: `sum by (outcome) (increase(moisson_run_duration_seconds_count{pipeline="${pipeline}"}[1h]))`, legend: '{{outcome}}' }] },
        {
          title: 'Run duration (p50, p95)',
          unit: 's',
          queries: [
            { expr: `histogram_quantile(0.5, sum by (le) (rate(moisson_run_duration_seconds_bucket{pipeline="${pipeline}"}[6h])))`, legend: 'p50' },
            { expr: `histogram_quantile(0.95, sum by (le) (rate(moisson_run_duration_seconds_bucket{pipeline="${pipeline}"}[6h])))`, legend: 'p95' },
          ],
        },
        {
          title: 'Success rate',
          unit: 'percentunit',
          kind: 'stat' as const,
          queries: [
            {
              expr: `sum(increase(moisson_run_duration_seconds_count{pipeline="${pipeline}",outcome="success"}[7d])) / sum(increase(moisson_run_duration_seconds_count{pipeline="${pipeline}"}[7d]))`,
            },
          ],
        },
        { title: 'Errors by type', unit: 'short', queries: [{ expr: `sum by (type) (increase(moisson_errors_total{pipeline="${pipeline}"}[$__rate_interval]))`, legend: '{{type}}' }] },
      ],
    },
  ];
}

const requestsRow = () => ({
  title: 'Requests to sources',
  panels: [
    { title: 'Requests by status', unit: 'reqps', queries: [{ expr: `sum by (status) (rate(moisson_http_requests_total{host=~"$host"}[$__rate_interval]))`, legend: '{{status}}' }] },
    {
      title: 'Error rate',
      unit: 'percentunit',
      queries: [
        {
          expr: `sum(rate(moisson_http_requests_total{host=~"$host",status=~"5..|timeout|network_error|truncated|too_large"}[$__rate_interval])) / sum(rate(moisson_http_requests_total{host=~"$host"}[$__rate_interval]))`,
          legend: 'failed share',
        },
      ],
    },
    { title: '429 responses', unit: 'short', queries: [{ expr: `sum by (host) (increase(moisson_http_requests_total{host=~"$host",status="429"}[$__rate_interval]))`, legend: '{{host}}' }] },
    { title: 'Waits asked by sources (Retry-After)', unit: 's', queries: [{ expr: `sum by (host) (increase(moisson_rate_limit_wait_seconds_sum{host=~"$host"}[$__rate_interval]))`, legend: '{{host}}' }] },
  ],
});

/** Work waiting in PostgreSQL (workers/queue-depth.ts): how many items and how long the oldest has waited. */
const queuePanels = (title: string, queue: string, description: string) => [
  { title, unit: 'short', description, queries: [{ expr: `max(moisson_queue_depth{queue="${queue}"})`, legend: queue }] },
  { title: `${title}: oldest wait`, unit: 's', queries: [{ expr: `max(moisson_queue_oldest_age_seconds{queue="${queue}"})`, legend: queue }] },
];

export function buildDashboards(): Record<string, unknown> {
  return {
    overview: dashboard('moisson-overview', 'moisson — overview', [
      {
        title: 'Pipelines',
        panels: [
          { title: 'Items saved by pipeline', unit: 'short', queries: [{ expr: 'sum by (pipeline) (increase(moisson_items_total{result="saved"}[$__rate_interval]))', legend: '{{pipeline}}' }] },
          { title: 'Runs by pipeline and outcome', unit: 'short', queries: [{ expr: 'sum by (pipeline, outcome) (increase(moisson_run_duration_seconds_count[1h]))', legend: '{{pipeline}} {{outcome}}' }] },
          { title: 'Active activities (crawls, syncs)', unit: 'short', queries: [{ expr: 'sum by (task_queue, activity_type) (moisson_activities_running)', legend: '{{task_queue}} {{activity_type}}' }] },
          { title: 'Errors by pipeline', unit: 'short', queries: [{ expr: 'sum by (pipeline) (increase(moisson_errors_total[$__rate_interval]))', legend: '{{pipeline}}' }] },
          { title: 'Rejected items by pipeline and reason', unit: 'short', queries: [{ expr: 'sum by (pipeline, reason) (increase(moisson_items_total{result="rejected"}[$__rate_interval]))', legend: '{{pipeline}} {{reason}}' }] },
          { title: 'Work waiting', unit: 'short', queries: [{ expr: 'max by (queue) (moisson_queue_depth)', legend: '{{queue}}' }] },
          { title: 'Oldest wait by queue', unit: 's', queries: [{ expr: 'max by (queue) (moisson_queue_oldest_age_seconds)', legend: '{{queue}}' }] },
        ],
      },
      {
        title: 'Temporal',
        panels: [
          {
            title: 'Workflows completed and failed',
            unit: 'short',
            queries: [
              { expr: 'sum by (workflow_type) (increase(temporal_workflow_completed[$__rate_interval]))', legend: '{{workflow_type}} completed' },
              { expr: 'sum by (workflow_type) (increase(temporal_workflow_failed[$__rate_interval]))', legend: '{{workflow_type}} failed' },
            ],
          },
          { title: 'Activity failures', unit: 'short', queries: [{ expr: 'sum by (activity_type) (increase(temporal_activity_execution_failed[$__rate_interval]))', legend: '{{activity_type}}' }] },
          { title: 'Activities that needed retries', unit: 'short', queries: [{ expr: 'sum by (activity_type) (increase(moisson_activity_retried_total[$__rate_interval]))', legend: '{{activity_type}}' }] },
          { title: 'Schedules that missed their catch-up window', unit: 'short', queries: [{ expr: 'sum(increase(schedule_missed_catchup_window[1h]))' }] },
        ],
      },
      {
        title: 'API and storage',
        panels: [
          { title: 'API requests by status', unit: 'reqps', queries: [{ expr: 'sum by (status) (rate(moisson_api_request_duration_seconds_count[$__rate_interval]))', legend: '{{status}}' }] },
          { title: 'API p99 latency', unit: 's', queries: [{ expr: 'histogram_quantile(0.99, sum by (le, route) (rate(moisson_api_request_duration_seconds_bucket[$__rate_interval])))', legend: '{{route}}' }] },
          { title: 'Proof store growth', unit: 'bytes', queries: [{ expr: 'sum by (pipeline) (increase(moisson_proof_bytes_written_total[1d]))', legend: '{{pipeline}}' }] },
          { title: 'Targets up', unit: 'short', kind: 'stat', queries: [{ expr: 'sum by (job) (up)', legend: '{{job}}' }] },
        ],
      },
      {
        // Every moisson process (worker, browser worker, API) exports its own (workers/process-metrics.ts).
        title: 'Processes',
        panels: [
          { title: 'CPU by process', unit: 'percentunit', queries: [{ expr: 'sum by (job) (rate(process_cpu_seconds_total{job=~"moisson.*"}[$__rate_interval]))', legend: '{{job}}' }] },
          { title: 'Resident memory by process', unit: 'bytes', queries: [{ expr: 'sum by (job) (process_resident_memory_bytes{job=~"moisson.*"})', legend: '{{job}}' }] },
          { title: 'Event loop delay (p99)', unit: 's', queries: [{ expr: 'max by (job) (nodejs_eventloop_lag_p99_seconds{job=~"moisson.*"})', legend: '{{job}}' }] },
          { title: 'V8 heap in use', unit: 'bytes', queries: [{ expr: 'sum by (job) (nodejs_heap_size_used_bytes{job=~"moisson.*"})', legend: '{{job}}' }] },
        ],
      },
    ]),
    pmmp: dashboard('moisson-pmmp', 'moisson — procurement (pmmp)', [
      ...pipelineRows('pmmp', 'Consultations, lots, notices and awards'),
      {
        title: 'Award notices',
        panels: queuePanels('Notice downloads waiting', 'pmmp_notice_downloads', 'award notices found on detail pages, not downloaded yet, attempts left'),
      },
      requestsRow(),
    ]),
    leads: dashboard('moisson-leads', 'moisson — leads', [
      ...pipelineRows('leads', 'Contacts scraped, validated and synced'),
      {
        title: 'MailWizz',
        panels: [
          { title: 'Subscribers created', unit: 'short', queries: [{ expr: 'sum(increase(moisson_items_total{pipeline="leads",kind="subscriber",result="saved"}[$__rate_interval]))', legend: 'created' }] },
          { title: 'Quota exhausted', unit: 'short', queries: [{ expr: 'sum(increase(moisson_mailwizz_quota_exhausted_total[1h]))', legend: 'syncs stopped by the quota' }] },
          { title: 'Contacts valid vs invalid', unit: 'short', queries: [{ expr: 'sum by (result) (increase(moisson_items_total{pipeline="leads",kind="contact",result=~"valid|invalid"}[$__rate_interval]))', legend: '{{result}}' }] },
        ],
      },
      requestsRow(),
    ]),
    apisync: dashboard('moisson-apisync', 'moisson — SaaS API sync (apisync)', [
      ...pipelineRows('apisync', 'Records loaded by stream'),
      {
        title: 'Watermarks',
        panels: [
          { title: 'Watermark age', unit: 's', queries: [{ expr: 'time() - max by (source, stream) (moisson_apisync_watermark_timestamp_seconds)', legend: '{{source}} {{stream}}' }] },
        ],
      },
      requestsRow(),
    ]),
    prices: dashboard('moisson-prices', 'moisson — daily prices', [
      ...pipelineRows('prices', 'Quotes fetched and saved'),
      {
        title: 'Archive',
        panels: [{ title: 'Archive verify mismatches', unit: 'short', queries: [{ expr: 'sum by (collection) (increase(moisson_archive_verify_mismatches_total[1d]))', legend: '{{collection}}' }] }],
      },
      requestsRow(),
    ]),
    consolidation: dashboard('moisson-consolidation', 'moisson — consolidation', [
      ...pipelineRows('consolidation', 'Actors ingested, rejected and suggested'),
      {
        title: 'Suggestions',
        panels: [
          ...queuePanels('Suggestions waiting for review', 'consolidation_review', 'AVALIDER: an operator accepts or rejects them'),
          ...queuePanels('Suggestions waiting to be applied', 'consolidation_apply', 'ATRAITER: accepted, the apply Schedule takes them every 5 minutes'),
          {
            title: 'Suggestions made and applied',
            unit: 'short',
            queries: [{ expr: 'sum by (result) (increase(moisson_items_total{pipeline="consolidation",kind="suggestion"}[$__rate_interval]))', legend: '{{result}}' }],
          },
        ],
      },
      // Source downloads, the geocoder and the company registry (their hosts in the host variable).
      requestsRow(),
    ]),
  };
}

function render(d: unknown): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

export function dashboardFiles(): Record<string, string> {
  return Object.fromEntries(Object.entries(buildDashboards()).map(([name, d]) => [`${name}.json`, render(d)]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(dashboardFiles())) {
    const path = join(dashboardsDir, file);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        /* missing counts as stale */
      }
      if (current !== text) {
        stale++;
        console.error(`dashboards: ${file} differs from scripts/ops/dashboards.ts (run \`npx tsx scripts/ops/dashboards.ts\`)`);
      }
    } else {
      writeFileSync(path, text);
      console.log(`dashboards: wrote deploy/grafana/dashboards/${file}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
