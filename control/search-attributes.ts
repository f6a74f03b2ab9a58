/**
 * The custom search attributes of moisson's runs (MoissonPipeline, MoissonPeriod, MoissonSource,
 * MoissonJobId: `SEARCH_ATTRIBUTES` in workflows/contracts.ts) registered on a Temporal namespace, so the
 * Web UI and `temporal workflow list --query` filter runs by them. A start that sets an attribute the
 * namespace does not know is refused by the server, so `stack:up` and every test server register them
 * before anything starts a run. Registering twice changes nothing.
 */
import type { ConnectionLike } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/contracts';

type IndexedValueType = temporal.api.enums.v1.IndexedValueType;
/** A client's connection or a test environment's: only its two services are used. */
type Services = Pick<ConnectionLike, 'operatorService' | 'workflowService'>;

/** The server's names of the SDK's attribute types (temporal.api.enums.v1.IndexedValueType). */
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, IndexedValueType> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

/** An attribute of ours already exists on the namespace with another type: only an operator can settle that. */
export class SearchAttributeConflictError extends Error {
  override readonly name = 'SearchAttributeConflictError';
  constructor(
    readonly attribute: string,
    readonly wanted: SearchAttributeType,
    readonly found: IndexedValueType,
  ) {
    super(`search attribute ${attribute} exists on the namespace with type ${found}, moisson needs ${wanted}: remove it (temporal operator search-attribute remove) and register again`);
  }
}

/** gRPC ALREADY_EXISTS: another process registered the same attribute between our look and our add. */
const ALREADY_EXISTS = 6;

async function customAttributes(connection: Services, namespace: string): Promise<Record<string, IndexedValueType>> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  return (res.customAttributes ?? {}) as Record<string, IndexedValueType>;
}

/**
 * Registers whatever of moisson's attributes the namespace lacks, then waits until the server's query
 * layer knows them (it caches the namespace's attributes; a start right after the add could otherwise be
 * refused). Returns the names it added.
 */
export async function registerSearchAttributes(connection: Services, namespace: string, opts: { timeoutMs?: number } = {}): Promise<string[]> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  const existing = await customAttributes(connection, namespace);
  const missing: Record<string, IndexedValueType> = {};
  for (const key of wanted) {
    const type = INDEXED_VALUE_TYPE[key.type];
    const found = existing[key.name];
    if (found === undefined) missing[key.name] = type;
    else if (found !== type) throw new SearchAttributeConflictError(key.name, key.type, found);
  }
  const added = Object.keys(missing);
  if (added.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (err) {
      if (!(isGrpcServiceError(err) && err.code === ALREADY_EXISTS)) throw err;
    }
  }
  await waitUntilQueryable(connection, namespace, opts.timeoutMs ?? 30_000);
  return added;
}

/** A visibility query naming every attribute succeeds only once the server resolves them all. */
async function waitUntilQueryable(connection: Services, namespace: string, timeoutMs: number): Promise<void> {
  const query = Object.values(SEARCH_ATTRIBUTES)
    .map((k) => `${k.name} = 'registered'`)
    .join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
