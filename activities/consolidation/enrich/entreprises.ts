/**
 * The company registry's search (recherche-entreprises.api.gouv.fr `GET /search?q=`, at most 25 results a
 * page, 7 requests per second shared by every worker, answers cached 30 days): single lookups of a SIRET
 * or a name. Bulk questions (which of our 500k SIRETs are closed) go to the SIRENE file loaded into
 * PostgreSQL instead (./sirene.ts).
 */
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { ConsolidationEnrichConfig } from '../../../schema/config';
import { InvalidInputError, ResponseShapeError } from '../../engine/errors';
import { EnrichCache, requestKey } from './cache';
import { ServiceClient } from './http';

export const MAX_PER_PAGE = 25;

const etablissementSchema = z
  .object({
    siret: z.string(),
    etat_administratif: z.string(),
    est_siege: z.boolean().optional(),
    adresse: z.string().nullable().optional(),
    code_postal: z.string().nullable().optional(),
    libelle_commune: z.string().nullable().optional(),
    activite_principale: z.string().nullable().optional(),
    date_fermeture: z.string().nullable().optional(),
  })
  .loose();

const uniteSchema = z
  .object({
    siren: z.string(),
    nom_complet: z.string().nullable(),
    nom_raison_sociale: z.string().nullable().optional(),
    etat_administratif: z.string(),
    nombre_etablissements: z.number().optional(),
    nombre_etablissements_ouverts: z.number().optional(),
    siege: etablissementSchema.partial().loose(),
    matching_etablissements: z.array(etablissementSchema),
  })
  .loose();

export const entreprisesPageSchema = z.object({
  results: z.array(uniteSchema),
  total_results: z.number().int(),
  page: z.number().int(),
  per_page: z.number().int(),
  total_pages: z.number().int(),
});

export type EntreprisesPage = z.infer<typeof entreprisesPageSchema>;
export type EntrepriseResult = z.infer<typeof uniteSchema>;

export interface SiretStatus {
  siret: string;
  /** null: the registry does not know this SIRET. */
  etatAdministratif: 'A' | 'F' | null;
  uniteEtatAdministratif: string | null;
  nom: string | null;
  /** Open establishments of the same SIREN, when this one is closed. */
  openSiretsOfSiren: string[];
}

export class EntreprisesClient {
  readonly service: ServiceClient;
  readonly cache: EnrichCache;
  private readonly baseUrl: string;

  constructor(sql: Sql, config: ConsolidationEnrichConfig) {
    this.baseUrl = config.entreprises.baseUrl;
    this.cache = new EnrichCache(sql, config.cacheTtlMs);
    this.service = new ServiceClient(sql, {
      bucket: `entreprises:${new URL(config.entreprises.baseUrl).host}`,
      ratePerSecond: config.entreprises.ratePerSecond,
      marginMs: config.rateMarginMs,
      timeoutMs: config.httpTimeoutMs,
      attempts: config.requestAttempts,
    });
  }

  async search(q: string, options: { page?: number; perPage?: number } = {}, signal?: AbortSignal): Promise<EntreprisesPage> {
    const perPage = options.perPage ?? 10;
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
      throw new InvalidInputError(`recherche-entreprises: per_page must be 1..${MAX_PER_PAGE}, got ${perPage}`);
    }
    const request = { q: q.trim(), page: options.page ?? 1, per_page: perPage };
    if (request.q.length < 3) throw new InvalidInputError(`recherche-entreprises: q must have at least 3 characters, got '${request.q}'`);
    const key = requestKey(request);
    const cached = await this.cache.get<EntreprisesPage>('entreprises.search', key);
    if (cached) return cached;
    const url = new URL(`${this.baseUrl}/search`);
    for (const [k, v] of Object.entries(request)) url.searchParams.set(k, String(v));
    const res = await this.service.send(`recherche-entreprises '${request.q}'`, () => ({ url: url.toString(), init: { headers: { accept: 'application/json' } } }), signal);
    const parsed = entreprisesPageSchema.safeParse(await res.json());
    if (!parsed.success) {
      throw new ResponseShapeError(`recherche-entreprises '${request.q}': unexpected answer at ${parsed.error.issues[0]?.path.join('.') ?? '?'}: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    await this.cache.putMany('entreprises.search', [{ key, request, response: parsed.data }]);
    return parsed.data;
  }

  /** What the registry says of one SIRET (searched by number: the answer lists it under `matching_etablissements`). */
  async siretStatus(siret: string, signal?: AbortSignal): Promise<SiretStatus> {
    if (!/^\d{14}$/.test(siret)) throw new InvalidInputError(`not a SIRET (14 digits): '${siret}'`);
    const page = await this.search(siret, { perPage: 1 }, signal);
    const unite = page.results.find((r) => r.siren === siret.slice(0, 9));
    const etab = unite?.matching_etablissements.find((e) => e.siret === siret);
    if (!unite || !etab) return { siret, etatAdministratif: null, uniteEtatAdministratif: unite?.etat_administratif ?? null, nom: unite?.nom_complet ?? null, openSiretsOfSiren: [] };
    let open: string[] = [];
    if (etab.etat_administratif === 'F' && (unite.nombre_etablissements_ouverts ?? 0) > 0) {
      const all = await this.search(siret.slice(0, 9), { perPage: MAX_PER_PAGE }, signal);
      open = (all.results.find((r) => r.siren === unite.siren)?.matching_etablissements ?? []).filter((e) => e.etat_administratif === 'A').map((e) => e.siret);
    }
    return {
      siret,
      etatAdministratif: etab.etat_administratif === 'F' ? 'F' : 'A',
      uniteEtatAdministratif: unite.etat_administratif,
      nom: unite.nom_complet,
      openSiretsOfSiren: open,
    };
  }
}
