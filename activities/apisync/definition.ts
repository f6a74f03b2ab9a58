/**
 * What a REST source is, as data: where it lives, how it authenticates, its rate limit, and its streams
 * (endpoint, pagination style, primary key, incremental strategy, column types and transforms). The
 * extractor, the loader and the workflow read these and nothing else, so a second API is one more
 * definition file (and, at most, a pagination or incremental strategy the engine lacks).
 */

/** PostgreSQL types a column may have; amounts are `numeric` (exact), never floats. */
export type ColumnType = 'bigint' | 'numeric' | 'text' | 'boolean' | 'date' | 'timestamptz' | 'jsonb';

export interface FieldSpec {
  type: ColumnType;
  /**
   * How the API value becomes the column value:
   * - `value` (default): as is (strings trimmed);
   * - `ref`: a `{id, url}` reference becomes its id (column `<field>_id` unless `column` says otherwise);
   * - `drop`: not stored (links to sub-collections, personal data the sync must not keep).
   */
  transform?: 'value' | 'ref' | 'drop';
  /** Column name when it is not the snake_case field name. */
  column?: string;
}

export type CursorPagination = {
  style: 'cursor';
  /** Query parameters and response fields of the style. */
  cursorParam: string;
  limitParam: string;
  itemsField: string;
  hasMoreField: string;
  nextCursorField: string;
  maxPageSize: number;
};

/**
 * Numbered pages (`?page=N&per_page=M`). The position saved between pages is the next page number, so
 * a retry resumes at the first page not committed. Pages over a list that changes meanwhile may shift
 * (a row skipped or read twice): a full sync upserts, and the next full corrects it.
 */
export type PagePagination = {
  style: 'page';
  pageParam: string;
  sizeParam: string;
  itemsField: string;
  /** Response field with the number of pages; without it, a page shorter than asked ends the list. */
  totalPagesField?: string;
  /**
   * Response field echoing the page served: a source that ignored the page number (a wrong parameter
   * name) would otherwise serve page 1 again and again, read as the whole list.
   */
  currentPageField?: string;
  firstPage: number;
  maxPageSize: number;
};

export type Pagination = CursorPagination | PagePagination;

/**
 * How changes since the last run are found:
 * - `changelog`: a change feed of `{id, operation: insert|update|delete, <time>}` paged by cursor from a
 *   `start_date`, whose changed ids are re-fetched in batches from the list endpoint with an `in` filter
 *   (Pennylane's way: list endpoints cannot filter on `updated_at`);
 * - `none`: the stream is always read in full.
 */
export type IncrementalStrategy =
  | {
      strategy: 'changelog';
      path: string;
      startParam: string;
      timeField: string;
      operationField: string;
      idField: string;
      maxPageSize: number;
      /** Changes older than this are gone: a watermark beyond it cannot be caught up, only re-synced in full. */
      retentionDays: number;
      /** HTTP status the source answers when the start is beyond its retention. */
      retentionStatus: number;
      refetch: { filterParam: string; batchSize: number; encode: (ids: readonly (string | number)[]) => string };
    }
  | { strategy: 'none' };

export interface StreamDefinition {
  /** The stream's name, as used in sync_state, etl_logs and the CLI. */
  name: string;
  /** List endpoint, relative to the source's base URL. */
  path: string;
  primaryKey: string;
  pagination: Pagination;
  incremental: IncrementalStrategy;
  /** Declared fields; any other field the API sends gets a column of an inferred type (and is recorded). */
  fields: Record<string, ColumnType | FieldSpec>;
  /** Extra query parameters on every list request. */
  query?: Record<string, string>;
}

export interface SourceDefinition {
  name: string;
  auth: { kind: 'bearer' };
  /** Requests per window, per token: the limiter holds it across every worker and process. */
  rateLimit: { requests: number; windowMs: number };
  /** A cheap authenticated request that proves the credentials before any stream starts. */
  whoAmIPath: string;
  streams: StreamDefinition[];
}

export function fieldSpec(spec: ColumnType | FieldSpec): FieldSpec {
  return typeof spec === 'string' ? { type: spec } : spec;
}

/** `customerInvoices`, `Customer-Invoices`, `customer invoices` → `customer_invoices`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** The table a stream loads into, in the `apisync` schema. */
export function tableName(source: string, stream: string): string {
  return `${snakeCase(source)}_${snakeCase(stream)}`;
}

export function findStream(source: SourceDefinition, name: string): StreamDefinition | undefined {
  return source.streams.find((s) => s.name === name);
}
