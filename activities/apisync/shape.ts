/**
 * API records → rows: snake_case columns, strings trimmed, `{id, url}` references to their id, links to
 * sub-collections left out, every value checked against its column's type (a bad value rejects its
 * record, with the reason, instead of failing a whole batch), and each row written as one line of
 * PostgreSQL's COPY text format. A field the stream does not declare gets a column of an inferred type
 * the first time it carries a value: the loader adds it to the table and records it.
 */
import { fieldSpec, snakeCase, type ColumnType, type StreamDefinition } from './definition';

export interface ColumnInfo {
  column: string;
  type: ColumnType;
  /** The API field it is read from. */
  field: string;
  transform: 'value' | 'ref';
  origin: 'declared' | 'observed';
}

export interface ShapeRejection {
  key: string;
  reason: string;
  payload: unknown;
}

export interface ShapedBatch {
  /** Columns in COPY order. */
  columns: ColumnInfo[];
  /** COPY text-format lines, `\n`-terminated, one per distinct key. */
  text: string;
  rows: number;
  /** The primary keys of the rows, as COPY text, each once, in row order. */
  keys: string[];
  /** The record each row was made from, in row order (for rejecting a row PostgreSQL refuses). */
  records: Record<string, unknown>[];
  /** Records dropped because a later record of the batch had the same key (the API's last one wins). */
  duplicates: number;
  rejected: ShapeRejection[];
}

const MAX_IDENTIFIER = 63;

export function columnName(name: string): string {
  const c = snakeCase(name) || 'field';
  return (/^[0-9]/.test(c) ? `f_${c}` : c).slice(0, MAX_IDENTIFIER);
}

/** A PostgreSQL identifier, quoted. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;
const MONEY_NAME = /amount|price|total|balance|tax|fee|rate/;
const COPY_SPECIAL = /[\\\n\r\t]/;
/** Text that must be trimmed or escaped before COPY. */
const TEXT_NEEDS_WORK = /^\s|\s$|[\\\n\r\t]/;


function isRef(v: unknown): v is { id: unknown } {
  return !!v && typeof v === 'object' && !Array.isArray(v) && 'id' in v && 'url' in v;
}

function isLink(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'url' in v;
}

/** The type of a field nobody declared, from its first non-null value. Decimal strings with a money name become numeric. */
export function inferColumn(field: string, value: unknown): Omit<ColumnInfo, 'origin'> | undefined {
  if (value === null || value === undefined) return undefined;
  if (isLink(value)) return undefined;
  if (isRef(value)) return { column: columnName(`${field}_id`), type: 'bigint', field, transform: 'ref' };
  const column = columnName(field);
  if (typeof value === 'boolean') return { column, type: 'boolean', field, transform: 'value' };
  if (typeof value === 'number') return { column, type: 'numeric', field, transform: 'value' };
  if (typeof value === 'object') return { column, type: 'jsonb', field, transform: 'value' };
  if (typeof value === 'string' && MONEY_NAME.test(column) && DECIMAL.test(value.trim())) return { column, type: 'numeric', field, transform: 'value' };
  return { column, type: 'text', field, transform: 'value' };
}

export function escapeCopy(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : s;
}

/** The value a COPY text field stands for (the inverse of `escapeCopy`). */
export function unescapeCopy(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c)) : s;
}

class BadValue extends Error {}

type Encoder = (raw: unknown) => string;

const NULL = '\\N';

function typed(type: ColumnType): Encoder {
  switch (type) {
    case 'text':
      return (v) => (typeof v === 'string' ? escapeCopy(v.trim()) : typeof v === 'object' ? escapeCopy(JSON.stringify(v)) : String(v));
    case 'numeric':
      return (v) => {
        if (typeof v === 'string') {
          if (DECIMAL.test(v)) return v;
          const s = v.trim();
          if (s === '') return NULL;
          if (DECIMAL.test(s)) return s;
        } else if (typeof v === 'number' && Number.isFinite(v)) return String(v);
        throw new BadValue('not an exact decimal');
      };
    case 'bigint':
      return (v) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
        if (typeof v === 'string') {
          if (v === '') return NULL;
          if (INTEGER.test(v.trim())) return v.trim();
        }
        throw new BadValue('not an integer');
      };
    case 'boolean':
      return (v) => {
        if (v === true || v === 'true') return 't';
        if (v === false || v === 'false') return 'f';
        throw new BadValue('not a boolean');
      };
    case 'date':
      return (v) => {
        if (typeof v === 'string') {
          if (DATE.test(v)) return v;
          if (v === '') return NULL;
        }
        throw new BadValue('not a YYYY-MM-DD date');
      };
    case 'timestamptz':
      return (v) => {
        if (typeof v === 'string') {
          if (TIMESTAMP.test(v)) return v;
          if (v === '') return NULL;
        }
        throw new BadValue('not an ISO 8601 timestamp');
      };
    case 'jsonb':
      return (v) => escapeCopy(JSON.stringify(v));
  }
}

/** The COPY text of a column's value, or `\N`; throws BadValue when it does not fit the column. */
function encoder(col: ColumnInfo): Encoder {
  const enc = typed(col.type);
  if (col.transform === 'ref') {
    return (v) => {
      if (v === null || v === undefined) return NULL;
      return enc(isRef(v) ? v.id : v);
    };
  }
  return (v) => (v === null || v === undefined ? NULL : enc(v));
}

type RowFiller = (item: Record<string, unknown>, values: string[], encoders: Encoder[], at: { i: number }) => void;

/** What the API sends nearly always for each type, already in COPY form: the one check it needs. */
const FAST_CHECK: Partial<Record<ColumnType, string>> = {
  text: `typeof v === 'string' && !TEXT_NEEDS_WORK.test(v)`,
  numeric: `typeof v === 'string' && DECIMAL.test(v)`,
  bigint: `typeof v === 'number' && Number.isSafeInteger(v)`,
  timestamptz: `typeof v === 'string' && TIMESTAMP.test(v)`,
  date: `typeof v === 'string' && DATE.test(v)`,
  // PostgreSQL reads `true` / `false` as booleans.
  boolean: `typeof v === 'boolean'`,
};

/**
 * A function filling `values` with the COPY text of one record's columns. It is generated for the columns
 * (field names as string literals) because a record read field by field through a variable key costs
 * about as much as everything else the shaping does; with literal names every read hits the inline cache
 * of the records' shared shape. The common value of each type is taken as is; anything else goes through
 * the column's full encoder, which trims, converts or throws BadValue (`at.i` then names the column).
 */
function compileRowFiller(cols: readonly ColumnInfo[]): RowFiller {
  const body = cols.map((c, i) => {
    const unwrap = c.transform === 'ref' ? `if (isRef(v)) v = v.id;\n` : '';
    const fast = FAST_CHECK[c.type];
    return (
      `v = item[${JSON.stringify(c.field)}];\n` +
      `if (v === null || v === undefined) values[${i}] = NULL;\n` +
      `else {\n${unwrap}` +
      (fast ? `if (${fast}) values[${i}] = '' + v;\nelse ` : '') +
      `{ at.i = ${i}; values[${i}] = encoders[${i}](v); }\n}`
    );
  });
  const factory = new Function('NULL', 'isRef', 'TEXT_NEEDS_WORK', 'DECIMAL', 'TIMESTAMP', 'DATE', `return function fillRow(item, values, encoders, at) {\nlet v;\n${body.join('\n')}\n};`);
  return factory(NULL, isRef, TEXT_NEEDS_WORK, DECIMAL, TIMESTAMP, DATE) as RowFiller;
}

/**
 * Keeps the columns of one stream's table (declared ones first, then the observed ones in the order
 * they appeared) and shapes batches of records against them.
 */
export class RowShaper {
  private readonly byField = new Map<string, ColumnInfo | null>();
  readonly columns: ColumnInfo[] = [];
  private readonly pkField: string;
  /** The row filler for the current columns (columns are only ever added, so their count identifies them). */
  private compiled: { columns: number; fill: RowFiller } | undefined;

  constructor(
    readonly stream: StreamDefinition,
    existing: readonly ColumnInfo[] = [],
  ) {
    this.pkField = stream.primaryKey;
    for (const [field, raw] of Object.entries(stream.fields)) {
      const spec = fieldSpec(raw);
      if (spec.transform === 'drop') {
        this.byField.set(field, null);
        continue;
      }
      const transform = spec.transform ?? 'value';
      const column = spec.column ?? columnName(transform === 'ref' ? `${field}_id` : field);
      this.add({ column, type: spec.type, field, transform, origin: 'declared' });
    }
    for (const c of existing) if (!this.byField.has(c.field)) this.add(c);
  }

  private add(c: ColumnInfo): void {
    this.byField.set(c.field, c);
    if (!this.columns.some((x) => x.column === c.column)) this.columns.push(c);
  }

  get primaryKeyColumn(): ColumnInfo {
    return this.byField.get(this.pkField)!;
  }

  /** Fields of these records no column covers yet, with their inferred columns (not yet added). */
  discover(items: readonly Record<string, unknown>[]): ColumnInfo[] {
    const found = new Map<string, ColumnInfo>();
    for (const item of items) {
      for (const field in item) {
        if (this.byField.has(field) || found.has(field)) continue;
        const inferred = inferColumn(field, item[field]);
        if (!inferred) continue;
        // Two API fields may snake_case to one name: the later one gets a suffix rather than overwriting.
        let column = inferred.column;
        for (let n = 2; this.columns.some((c) => c.column === column) || [...found.values()].some((c) => c.column === column); n++) column = `${inferred.column}_${n}`;
        found.set(field, { ...inferred, column, origin: 'observed' });
      }
    }
    return [...found.values()];
  }

  accept(columns: readonly ColumnInfo[]): void {
    for (const c of columns) this.add(c);
  }

  /**
   * COPY lines for these records (call `discover` + `accept` first, or unknown fields are ignored).
   * Records sharing a key collapse to the last one. The common case of each type is checked inline; anything
   * else goes through the column's full encoder (which trims, converts or rejects).
   */
  shape(items: readonly Record<string, unknown>[]): ShapedBatch {
    const cols = this.columns;
    const n = cols.length;
    if (this.compiled?.columns !== n) this.compiled = { columns: n, fill: compileRowFiller(cols) };
    const fill = this.compiled.fill;
    const at = { i: 0 };
    const encoders = cols.map(encoder);
    const pkIndex = cols.indexOf(this.primaryKeyColumn);
    const pkField = cols[pkIndex]!.field;
    const lines: (string | undefined)[] = [];
    const keys: (string | undefined)[] = [];
    const records: (Record<string, unknown> | undefined)[] = [];
    const lineOfKey = new Map<string, number>();
    const rejected: ShapeRejection[] = [];
    const values = new Array<string>(n);
    let duplicates = 0;
    for (const item of items) {
      const rawKey = item[pkField];
      if (rawKey === null || rawKey === undefined || rawKey === '') {
        rejected.push({ key: '(none)', reason: `no ${pkField}: a record without its primary key cannot be loaded`, payload: item });
        continue;
      }
      try {
        fill(item, values, encoders, at);
      } catch (err) {
        if (!(err instanceof BadValue)) throw err;
        const c = cols[at.i]!;
        rejected.push({ key: String(rawKey), reason: `${c.field} = ${JSON.stringify(item[c.field])?.slice(0, 80)}: ${err.message} (column ${c.column} is ${c.type})`, payload: item });
        continue;
      }
      const key = values[pkIndex]!;
      const earlier = lineOfKey.get(key);
      if (earlier !== undefined) {
        lines[earlier] = undefined;
        keys[earlier] = undefined;
        records[earlier] = undefined;
        duplicates++;
      }
      lineOfKey.set(key, lines.length);
      lines.push(values.join('\t'));
      keys.push(key);
      records.push(item);
    }
    const kept = duplicates ? (lines.filter((l) => l !== undefined) as string[]) : (lines as string[]);
    return {
      columns: cols.slice(),
      text: kept.length ? `${kept.join('\n')}\n` : '',
      rows: kept.length,
      keys: duplicates ? (keys.filter((k) => k !== undefined) as string[]) : (keys as string[]),
      records: duplicates ? (records.filter((r) => r !== undefined) as Record<string, unknown>[]) : (records as Record<string, unknown>[]),
      duplicates,
      rejected,
    };
  }
}
