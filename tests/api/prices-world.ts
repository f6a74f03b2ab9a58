/** The API's context on a prices test world: its database, its Temporal server and queue, a fixed HMAC secret. */
import { createProofStore } from '../../activities/engine/proofs';
import type { ApiContext } from '../../api/context';
import { loadApiConfig, type ApiConfig } from '../../schema/config';
import type { PricesWorld } from '../prices/harness';

export function apiContextOf(
  world: PricesWorld,
  opts: { secret: string; now: () => Date; config?: Partial<ApiConfig>; health?: ApiContext['health'] },
): ApiContext {
  return {
    config: { ...loadApiConfig({ API_HMAC_SECRET: opts.secret, API_RATE_LIMIT_PER_MINUTE: '100000' }), ...opts.config },
    db: world.db,
    proofs: createProofStore({ db: world.db.db, dir: '/nonexistent-proof-store' }),
    temporal: () => Promise.resolve(world.temporal.client),
    temporalTaskQueue: world.taskQueue,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: world.temporal.namespace ?? 'default',
    now: opts.now,
    health: opts.health ?? {
      postgresql: async () => {
        await world.db.sql`select 1`;
      },
      mongodb: async () => {
        await world.archive.db.command({ ping: 1 });
      },
      temporal: async () => {
        await world.temporal.client.workflowService.getSystemInfo({});
      },
    },
  };
}
