/** What every route module receives: settings, database, proof store, Temporal, the clock. */
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../activities/engine/db';
import type { PayloadEncryptionCodec } from '../control/payload-codec';
import type { ProofStore } from '../activities/engine/proofs';
import type { ApiConfig } from '../schema/config';

export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A dependency checked by /health: resolves when it answers, rejects with the reason otherwise. */
export type HealthCheck = () => Promise<void>;

export interface ApiContext {
  config: ApiConfig;
  db: Database;
  /** Reads by key, in sessions that reuse a statement's plan (`API_LOOKUP_SESSION`); absent: `db`. */
  lookups?: Database;
  proofs: ProofStore;
  /** The Temporal client, connected on first use (the API serves data while Temporal is down). */
  temporal(): Promise<Client>;
  temporalTaskQueue: string;
  /** Where browser work runs (the leads maps source); the main queue when absent. */
  temporalBrowserTaskQueue?: string;
  temporalUiUrl: string;
  temporalNamespace: string;
  /** PostgreSQL, MongoDB, Temporal. */
  health: Record<string, HealthCheck>;
  now(): Date;
  /** The codec endpoint for the Temporal Web UI and CLI (api/codec); absent: it answers 503. */
  codec?: CodecServerSettings;
}

export interface CodecServerSettings {
  /** Undefined when no payload key is configured. */
  codec: PayloadEncryptionCodec | undefined;
  /** Browser origins allowed by CORS. */
  uiOrigins: string[];
  /** Bearer token of callers without an Origin. */
  token: string | undefined;
}
