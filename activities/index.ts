/** Every activity of the `moisson` task queue, built from the process's connections. */
import { createPricesActivities, type PricesDeps } from './prices';

export type ActivityDeps = PricesDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createPricesActivities(deps),
  };
}
