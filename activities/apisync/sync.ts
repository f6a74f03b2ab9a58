/**
 * One stream of one source, in one activity: pages are fetched and loaded inside it (a sequential
 * activity per page would cost ~6 history events each), at the pace of the shared rate limiter. Every
 * COPY batch commits, in one transaction, its rows and the cursor after them (`sync_state.pending`), so a
 * retried attempt — in this worker or another, after a crash — continues from the last committed page.
 *
 * - full: every page into the shadow table, swapped in at the end; the watermark is set to when the
 *   full started (less an overlap), so the next incremental run replays what changed meanwhile;
 * - incremental: the change feed from the watermark, changed records re-fetched by id, deletions
 *   applied, the watermark moved with each committed page. No watermark, or one older than the feed's
 *   retention (or the source answering so), falls back to full and says why.
 */
import { Context } from '@temporalio/activity';
import type { Sql, TransactionSql } from 'postgres';
import type { ApisyncConfig } from '../../schema/config';
import { ConfigurationError, InvalidInputError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { apisyncWatermark, items as itemsMetric } from '../engine/metrics';
import { fetchChangePage, fetchListPage, refetchRecords, RestClient, RetentionExceededError, type Change } from './client';
import { findStream, tableName, type SourceDefinition, type StreamDefinition } from './definition';
import { bucketKey, SharedRateLimiter } from './limiter';
import { BatchWriter, copyUpsert, countRows, countRunRows, deleteKeys, ensureColumns, ensureTable, ShadowLoad, tableColumns } from './loader';
import { RowShaper, type ColumnInfo, type ShapeRejection } from './shape';
import { sourceSettings, SOURCES } from './sources/index';
import type { ApisyncMode, StreamCounts, SyncStreamInput, SyncStreamResult } from './types';

const DAY = 86_400_000;
/** A watermark this close to the retention edge is treated as beyond it: the run itself takes time. */
const RETENTION_SAFETY_MS = 3_600_000;
const LEASE_MS = 10 * 60_000;

interface Pending {
  runKey: string;
  mode: ApisyncMode;
  /** The list cursor (full) or change-feed cursor (incremental) after the last committed page. */
  position: string | null;
  /** Full only: the watermark to set once the shadow table is swapped in. */
  fullWatermark?: string;
  /** Full only: the last page is in the shadow table; what is left is its key and the swap. */
  listed?: boolean;
  fallbackReason?: string;
  counts: StreamCounts;
  columnsAdded: string[];
}

export interface StreamSyncDeps {
  sql: Sql;
  config: ApisyncConfig;
  /** Called with every rejected record (the caller writes them to etl.rejected_records). */
  reject: (runId: string, stream: string, rejections: ShapeRejection[]) => Promise<void>;
  /** Tests: called after each committed batch (e.g. to kill the worker at a known point). */
  onBatch?: (stream: string, counts: StreamCounts) => void | Promise<void>;
}

const zero = (): StreamCounts => ({ pages: 0, requests: 0, extracted: 0, loaded: 0, deleted: 0, rejected: 0, duplicates: 0, changes: 0 });

function resolve(sourceName: string, streamName: string): { source: SourceDefinition; stream: StreamDefinition } {
  const source = SOURCES[sourceName];
  if (!source) throw new InvalidInputError(`unknown apisync source '${sourceName}' (known: ${Object.keys(SOURCES).join(', ')})`);
  const stream = findStream(source, streamName);
  if (!stream) throw new InvalidInputError(`source ${sourceName} has no stream '${streamName}' (streams: ${source.streams.map((s) => s.name).join(', ')})`);
  return { source, stream };
}

export function clientFor(sql: Sql, config: ApisyncConfig, source: SourceDefinition, signal?: AbortSignal): RestClient {
  const settings = sourceSettings(config, source.name);
  if (!settings) throw new ConfigurationError(`no settings for apisync source '${source.name}' in schema/config.ts`);
  const variable = `${source.name.toUpperCase()}_API_TOKEN`;
  if (!settings.token) throw new ConfigurationError(`${variable} is not set: the ${source.name} API needs a token`, { variable });
  const limiter = new SharedRateLimiter(sql, bucketKey(settings.baseUrl, settings.token), settings.rateLimit);
  return new RestClient({ baseUrl: settings.baseUrl, token: settings.token, limiter, timeoutMs: config.httpTimeoutMs, attempts: config.requestAttempts, ...(signal ? { signal } : {}) });
}

/** `2026-11-23T13:29:06.019001Z` from a timestamptz, microseconds kept (the change feed's precision). */
const ISO_UTC = `to_char(watermark at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export async function syncStream(deps: StreamSyncDeps, input: SyncStreamInput): Promise<SyncStreamResult> {
  const started = Date.now();
  const { sql, config } = deps;
  const { source, stream } = resolve(input.source, input.stream);
  let signal: AbortSignal | undefined;
  let attempt = 1;
  try {
    signal = Context.current().cancellationSignal;
    attempt = Context.current().info.attempt;
  } catch {
    signal = undefined; // called outside an activity (bench, tools)
  }
  const client = clientFor(sql, config, source, signal);
  const table = tableName(source.name, stream.name);

  const observed = await sql<{ column: string; pg_type: string; field: string }[]>`
    select "column", pg_type, field from apisync.columns where source = ${source.name} and stream = ${stream.name} and origin = 'observed' order by added_at, "column"`;
  const shaper = new RowShaper(
    stream,
    observed.map((c): ColumnInfo => ({ column: c.column, type: c.pg_type as ColumnInfo['type'], field: c.field, transform: c.column.endsWith('_id') && c.pg_type === 'bigint' && c.field !== c.column ? 'ref' : 'value', origin: 'observed' })),
  );
  const pk = shaper.primaryKeyColumn;
  await ensureTable(sql, table, pk, shaper.columns);
  await ensureColumns(sql, table, await tableColumns(sql, table), shaper.columns, { source: source.name, stream: stream.name, runId: input.runId });

  const [state] = await sql<{ watermark: string | null; pending: Pending | null }[]>`
    select ${sql.unsafe(ISO_UTC)} as watermark, pending from apisync.sync_state where source = ${source.name} and stream = ${stream.name}`;
  const resumed = state?.pending?.runKey === input.runId ? state.pending : undefined;

  let mode: ApisyncMode = resumed?.mode ?? input.mode;
  let fallbackReason = resumed?.fallbackReason;
  if (!resumed && mode === 'incremental') {
    const feed = stream.incremental;
    if (feed.strategy === 'none') fallbackReason = `${stream.name} has no change feed: read in full`;
    else if (!state?.watermark) fallbackReason = `no watermark yet for ${stream.name}: first sync, read in full`;
    else if (Date.parse(state.watermark) < Date.now() - feed.retentionDays * DAY + RETENTION_SAFETY_MS) {
      fallbackReason = `watermark ${state.watermark} is older than the ${feed.retentionDays}-day change-feed retention: re-synced in full`;
    }
    if (fallbackReason) mode = 'full';
  }

  const counts = resumed ? { ...zero(), ...resumed.counts } : zero();
  const columnsAdded = [...(resumed?.columnsAdded ?? [])];
  let pending: Pending = resumed ?? { runKey: input.runId, mode, position: null, counts, columnsAdded, ...(fallbackReason ? { fallbackReason } : {}) };
  const knownColumns = new Map<string, Map<string, string>>();
  const columnsOf = async (target: string) => {
    let known = knownColumns.get(target);
    if (!known) knownColumns.set(target, (known = await tableColumns(sql, target)));
    return known;
  };

  async function savePending(tx: TransactionSql | Sql, p: Pending | null, extra: { watermark?: string } = {}): Promise<void> {
    await tx`
      insert into apisync.sync_state (source, stream, pending, watermark, updated_at)
      values (${source.name}, ${stream.name}, ${p ? JSON.stringify(p) : null}::jsonb, ${extra.watermark ?? null}::timestamptz, now())
      on conflict (source, stream) do update
        set pending = excluded.pending,
            watermark = case when excluded.watermark is null then apisync.sync_state.watermark
                             else greatest(excluded.watermark, coalesce(apisync.sync_state.watermark, excluded.watermark)) end,
            updated_at = now()`;
    await tx`update apisync.run_leases set expires_at = now() + ${LEASE_MS}::float8 * interval '1 millisecond' where source = ${source.name} and not released`;
    if (extra.watermark) noteWatermark(extra.watermark);
  }

  /** The stale-watermark alert reads this: a sync that runs but no longer advances shows as an ageing gauge. */
  function noteWatermark(watermark: string): void {
    apisyncWatermark().record(Date.parse(watermark) / 1000, { source: source.name, stream: stream.name });
  }

  /** Set while a full load fills its shadow table: its batches are COPY'd straight in, several at once. */
  let shadowLoad: ShadowLoad | undefined;
  let writer = new BatchWriter(sql);

  /**
   * Rows and deletions of one batch, and the position after them, in one transaction. The batch is shaped
   * now; its write starts at once or when a writer is free, and runs while the next pages are fetched.
   */
  async function commit(target: string, batchItems: Record<string, unknown>[], deletes: string[], next: Pending, watermark?: string): Promise<void> {
    const fresh = shaper.discover(batchItems);
    if (fresh.length > 0) {
      await writer.drain();
      shaper.accept(fresh);
      const added = await ensureColumns(sql, target, await columnsOf(target), fresh, { source: source.name, stream: stream.name, runId: input.runId });
      for (const c of added) if (!columnsAdded.includes(c.column)) columnsAdded.push(c.column);
      // Incremental writes into the live table; a full may have added the column to its shadow only.
      if (target !== table) await ensureColumns(sql, table, await columnsOf(table), fresh, { source: source.name, stream: stream.name, runId: input.runId });
    }
    const batch = shaper.shape(batchItems);
    counts.duplicates += batch.duplicates;
    counts.rejected += batch.rejected.length;
    if (batch.rejected.length > 0) await deps.reject(input.runId, stream.name, batch.rejected);
    // What a retry may trust: the counts of the pages up to this cursor, not of pages fetched since.
    const saved = { ...next, counts: { ...counts }, columnsAdded: [...columnsAdded] };
    const into = shadowLoad;
    const repeated = into ? into.repeated(batch) : [];
    await writer.submit({
      exclusive: repeated.length > 0,
      load: async (tx) => {
        if (into) return { ...(await into.write(tx, batch, repeated)), deleted: 0 };
        const { written, refused } = await copyUpsert(tx, target, pk.column, batch, input.runId);
        return { loaded: written, deleted: await deleteKeys(tx, target, pk, deletes), replaced: 0, refused };
      },
      seal: async (tx, done) => {
        counts.loaded += done.loaded;
        counts.deleted += done.deleted;
        counts.duplicates += done.replaced;
        counts.rejected += done.refused.length;
        saved.counts.loaded = counts.loaded;
        saved.counts.deleted = counts.deleted;
        saved.counts.duplicates += done.replaced;
        saved.counts.rejected += done.refused.length;
        if (done.refused.length > 0) await deps.reject(input.runId, stream.name, done.refused);
        await savePending(tx, saved, watermark ? { watermark } : {});
        itemsMetric().add(batch.rows, { pipeline: 'apisync', kind: stream.name, result: 'saved' });
        await deps.onBatch?.(stream.name, { ...counts });
      },
    });
  }

  const heartbeating = signal ? withHeartbeat : <T>(fn: (progress: (d: unknown) => void) => Promise<T>) => fn(() => {});
  return heartbeating(async (progress) => {
    const beat = () => progress({ stream: stream.name, mode, ...counts });

    async function runFull(fresh: boolean): Promise<string> {
      let load = fresh ? undefined : await ShadowLoad.resume(sql, table, pk);
      if (!load) {
        // A resumed run whose shadow table is gone (dropped by hand) starts its full again from the first page.
        if (!fresh) Object.assign(counts, zero(), { requests: counts.requests });
        load = await ShadowLoad.create(sql, table, pk, input.runId);
        pending = { runKey: input.runId, mode: 'full', position: null, fullWatermark: new Date(Date.now() - config.watermarkOverlapMs).toISOString(), counts, columnsAdded, ...(fallbackReason ? { fallbackReason } : {}) };
        await savePending(sql, pending);
      }
      shadowLoad = load;
      writer = new BatchWriter(sql, config.loadWriters);
      let position = pending.position;
      let buffer: Record<string, unknown>[] = [];
      // An attempt that died after its last page committed goes straight to the swap.
      while (!pending.listed) {
        signal?.throwIfAborted();
        const page = await fetchListPage(client, stream, config.pageSize, position);
        counts.pages++;
        counts.extracted += page.items.length;
        itemsMetric().add(page.items.length, { pipeline: 'apisync', kind: stream.name, result: 'scraped' });
        buffer.push(...page.items);
        position = page.next;
        if (buffer.length >= config.loadBatchRows || position === null) {
          pending = { ...pending, position, ...(position === null ? { listed: true } : {}) };
          await commit(load.shadow, buffer, [], pending);
          buffer = [];
        }
        beat();
      }
      await writer.drain();
      shadowLoad = undefined;
      writer = new BatchWriter(sql);
      counts.duplicates += await load.buildKey();
      const watermark = pending.fullWatermark ?? new Date(Date.now() - config.watermarkOverlapMs).toISOString();
      await sql.begin(async (tx) => {
        await load.swap(tx);
        await tx`
          update apisync.sync_state
             set watermark = ${watermark}, pending = null, last_full_at = now(), updated_at = now()
           where source = ${source.name} and stream = ${stream.name}`;
      });
      noteWatermark(watermark);
      return watermark;
    }

    async function runIncremental(): Promise<string | null> {
      const feed = stream.incremental;
      if (feed.strategy !== 'changelog') throw new InvalidInputError(`${stream.name}: incremental needs a change feed`);
      let position = pending.position;
      let watermark = state?.watermark ?? null;
      for (;;) {
        signal?.throwIfAborted();
        const from = position ? { cursor: position } : { start: watermark! };
        const page = await fetchChangePage(client, stream, feed, config.changelogPageSize, from);
        counts.pages++;
        counts.changes += page.changes.length;
        // The last operation of an id in the page decides; the feed is oldest first.
        const last = new Map<string, Change['operation']>();
        for (const c of page.changes) last.set(c.id, c.operation);
        const deletes = [...last].filter(([, op]) => op === 'delete').map(([id]) => id);
        const changed = [...last].filter(([, op]) => op !== 'delete').map(([id]) => id);
        const fetched = changed.length ? await refetchRecords(client, stream, feed, changed) : [];
        counts.extracted += fetched.length;
        itemsMetric().add(fetched.length, { pipeline: 'apisync', kind: stream.name, result: 'scraped' });
        const newest = page.changes.at(-1)?.at;
        pending = { ...pending, position: page.next };
        await commit(table, fetched, deletes, pending, newest);
        if (newest && (!watermark || Date.parse(newest) >= Date.parse(watermark))) watermark = newest;
        position = page.next;
        beat();
        if (position === null) break;
      }
      await writer.drain();
      await sql`update apisync.sync_state set pending = null, updated_at = now() where source = ${source.name} and stream = ${stream.name}`;
      const [row] = await sql<{ watermark: string | null }[]>`select ${sql.unsafe(ISO_UTC)} as watermark from apisync.sync_state where source = ${source.name} and stream = ${stream.name}`;
      return row?.watermark ?? watermark;
    }

    let watermark: string | null;
    if (mode === 'incremental') {
      try {
        watermark = await runIncremental();
      } catch (err) {
        if (!(err instanceof RetentionExceededError)) throw err;
        fallbackReason = `${err.message}: re-synced in full`;
        mode = 'full';
        pending = { runKey: input.runId, mode: 'full', position: null, counts, columnsAdded, fallbackReason };
        watermark = await runFull(true);
      }
    } else {
      watermark = await runFull(resumed?.mode !== 'full');
    }
    counts.requests = (resumed?.counts.requests ?? 0) + client.stats.requests;
    // Rows loaded are the rows the table holds from this run: a killed attempt's committed pages count
    // once, whatever the attempt that finished saw. (Deletions commit with the cursor that counts them.)
    counts.loaded = await countRunRows(sql, table, input.runId);
    const rowCount = await countRows(sql, table);
    await sql`update apisync.sync_state set row_count = ${rowCount}, last_mode = ${mode}, updated_at = now() where source = ${source.name} and stream = ${stream.name}`;
    return {
      stream: stream.name,
      requestedMode: input.mode,
      mode,
      ...(fallbackReason ? { fallbackReason } : {}),
      resumed: resumed !== undefined,
      attempt,
      counts,
      rateLimited: client.stats.rateLimited,
      columnsAdded,
      watermark,
      rowCount,
      durationMs: Date.now() - started,
    };
  });
}
