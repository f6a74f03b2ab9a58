/** What the apisync workflow and its activities exchange: names, modes, counts (small, no rows). */

export type ApisyncMode = 'full' | 'incremental';

export type ApisyncOutcome = 'success' | 'partial' | 'failure' | 'config_error' | 'skipped';

export interface PlanApisyncRunInput {
  source: string;
  mode: ApisyncMode;
  /** Every stream of the source when absent. */
  streams?: string[];
  workflowId: string;
  workflowRunId: string;
}

export type ApisyncPlan =
  | { kind: 'ready'; runId: string; streams: string[] }
  | { kind: 'config_error'; runId: string; issues: { variable: string; message: string }[] }
  /** The source refused the credentials: nothing else is tried. */
  | { kind: 'refused'; runId: string; error: string }
  /** Another run of this source holds the lease. */
  | { kind: 'busy'; runId: string; heldBy: string };

export interface SyncStreamInput {
  source: string;
  stream: string;
  mode: ApisyncMode;
  /** The etl.runs id: also the key a retried attempt finds its saved cursor by. */
  runId: string;
}

export interface StreamCounts {
  pages: number;
  requests: number;
  extracted: number;
  loaded: number;
  deleted: number;
  rejected: number;
  duplicates: number;
  changes: number;
}

export interface SyncStreamResult {
  stream: string;
  requestedMode: ApisyncMode;
  /** What ran: an incremental request falls back to full when it cannot be incremental. */
  mode: ApisyncMode;
  fallbackReason?: string;
  /** Whether this attempt continued from a cursor an earlier attempt committed. */
  resumed: boolean;
  /** The activity attempt that finished the stream: above 1, earlier ones failed (database down, worker killed…). */
  attempt: number;
  counts: StreamCounts;
  rateLimited: number;
  columnsAdded: string[];
  watermark: string | null;
  rowCount: number;
  durationMs: number;
}

export interface StreamOutcome {
  stream: string;
  status: 'success' | 'failure';
  result?: SyncStreamResult;
  error?: string;
  errorType?: string;
  durationMs: number;
}

export interface FinishApisyncRunInput {
  runId: string;
  source: string;
  workflowRunId: string;
  outcome: ApisyncOutcome;
  streams: StreamOutcome[];
  summary: Record<string, unknown>;
}
