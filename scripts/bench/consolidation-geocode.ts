/**
 * `consolidation.geocode`: N actor addresses geocoded through BAN's batch path (`POST /search/csv/`, 5,000
 * rows an upload) against one request per row (`GET /search/`), both through the real client, its
 * PostgreSQL cache and the shared 50 requests/s budget, against the BAN replica enforcing the public limit.
 * The cache is emptied before each path, so neither is helped by the other.
 */
import { loadavg } from 'node:os';
import { BanClient, type AddressToGeocode } from '../../activities/consolidation/enrich/ban';
import { loadConsolidationEnrichConfig } from '../../schema/config';
import { STREETS, TOWNS } from '../../tests/replicas/consolidation/ban/model';
import { startBanReplica } from '../../tests/replicas/consolidation/ban/index';
import { measure, round, throwawayPostgres, type BenchContext, type BenchResult, type Scenario } from './support';

/** Rows of the per-row path: at 50 requests/s, 1,500 rows take 30 s. */
const DEFAULT_ROWS = 1_500;
const PER_ROW_CONCURRENCY = 16;

function addresses(n: number): AddressToGeocode[] {
  return Array.from({ length: n }, (_, i) => {
    const town = TOWNS[i % TOWNS.length]!;
    const street = STREETS[Math.floor(i / TOWNS.length) % STREETS.length]!;
    // Sources write addresses upper-cased, without accents, some without a postcode.
    const adresse = `${(i % 140) + 1} ${street.normalize('NFD').replace(/\p{M}+/gu, '').toUpperCase()}`;
    return { id: `bench_${i}`, adresse, codePostal: i % 7 === 0 ? '' : town.postcode, ville: town.city.toUpperCase() };
  });
}

export const consolidationGeocodeScenario: Scenario = {
  produces: ['consolidation.geocode'],
  description: 'BAN geocoding: batch /search/csv/ vs one /search per row, at the 50 requests/s limit',
  async run(ctx: BenchContext): Promise<Record<string, BenchResult>> {
    const rows = Math.min(ctx.rows, DEFAULT_ROWS);
    const db = await throwawayPostgres(ctx, 'cons_geocode');
    const ban = await startBanReplica({ ratePerSecond: 50 });
    try {
      const config = loadConsolidationEnrichConfig({ CONSOLIDATION_BAN_URL: ban.url });
      const list = addresses(rows);
      const load = loadavg()[0];

      await db.sql`truncate consolidation.enrich_cache, consolidation.rate_limit_sends, consolidation.rate_limits`;
      const batchClient = new BanClient(db.sql, config);
      ban.clearRequests();
      const batch = await measure(() => batchClient.geocodeBatch(list));
      const batchRequests = ban.requests().length;
      const accepted = batch.result.filter((g) => g.accepted).length;
      ctx.log(`batch: ${rows} rows in ${round(batch.ms / 1000, 2)} s, ${batchRequests} request(s), ${accepted} accepted`);

      let perRow: { ms: number; peakRssMb: number; requests: number; throttled: number } | undefined;
      if (!ctx.skipBaseline) {
        await db.sql`truncate consolidation.enrich_cache, consolidation.rate_limit_sends, consolidation.rate_limits`;
        const single = new BanClient(db.sql, config);
        ban.clearRequests();
        const m = await measure(async () => {
          let next = 0;
          await Promise.all(
            Array.from({ length: PER_ROW_CONCURRENCY }, async () => {
              while (next < list.length) await single.geocode(list[next++]!);
            }),
          );
        });
        perRow = { ms: m.ms, peakRssMb: m.peakRssMb, requests: ban.requests().length, throttled: ban.requests().filter((r) => r.status === 429).length };
        ctx.log(`one request per row: ${rows} rows in ${round(m.ms / 1000, 1)} s (${perRow.throttled} answered 429)`);
      }
      const value = rows / (batch.ms / 1000);
      const baseline = perRow ? rows / (perRow.ms / 1000) : undefined;
      return {
        'consolidation.geocode': {
          value: round(value, 1),
          unit: 'rows/s',
          ...(baseline !== undefined ? { baseline: round(baseline, 1), baselineName: 'one GET /search per row (50 req/s shared budget)', ratio: round(value / baseline, 1) } : {}),
          peakRssMb: Math.max(batch.peakRssMb, perRow?.peakRssMb ?? 0),
          params: {
            rows,
            batchRowsPerUpload: config.ban.csvBatchRows,
            batchRequests,
            accepted,
            perRowRequests: perRow?.requests,
            perRow429: perRow?.throttled,
            perRowConcurrency: PER_ROW_CONCURRENCY,
            rateLimitPerSecond: config.ban.ratePerSecond,
            replica: 'tests/replicas/consolidation/ban (in process, 50 req/s per client enforced)',
            loadAverage1m: round(load ?? 0, 2),
          },
        },
      };
    } finally {
      await ban.close();
      await db.drop();
    }
  },
};

export const consolidationGeocodeScenarios: Scenario[] = [consolidationGeocodeScenario];
