/**
 * Enrichment as a pipeline step: pages of the reviewed actors (the imported state under its revision
 * overlay) go through one enrichment kind, and what it finds becomes suggestion cohorts through the
 * suggestions module, for a person to accept or reject; nothing is ever edited here.
 *
 * - `ban`: addresses through the BAN batch path (`/search/csv/`, cached 30 days, 50 req/s shared); an
 *   accepted answer that corrects the postcode, the city or the coordinates is one suggestion
 *   (`acteur_update_data`) in the cohort of what it corrects (CP, then VILLES, then COORDONNEES).
 * - `sirene-closed`: SIRETs joined with the loaded SIRENE stock; a closed establishment becomes a replaced
 *   SIRET (`acteur_update_data`) or an INACTIF actor (`acteur_update_statut`), in the FERMES cohort.
 *
 * A page is one transaction: its proposals are recorded in `consolidation.enrich_proposals` and only
 * those not seen before (same actor, kind and changes) become suggestions, so a retried page, a rerun
 * or a proposal a person already rejected never shows up twice.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Context } from '@temporalio/activity';
import { Unzip, UnzipInflate } from 'fflate';
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { ConsolidationEnrichConfig } from '../../../schema/config';
import type { CohorteType } from '../../../schema/consolidation/tables';
import type { BoundActivities } from '../../engine/bind';
import { InvalidInputError, NotAvailableError, TransientError } from '../../engine/errors';
import { countHttpRequest } from '../../engine/http';
import { buildSuggestion } from '../suggestions';
import { followCohorts } from '../suggestions/cohorts';
import { BanClient } from './ban';
import { proposalFingerprint, geocodeProposals, type ActorLocation, type EnrichmentProposal } from './proposals';
import { loadSireneStock, proposeClosedActors, type SireneLoadResult } from './sirene';

export const ENRICH_KINDS = ['ban', 'sirene-closed'] as const;
export type EnrichKind = (typeof ENRICH_KINDS)[number];

export const EnrichPageInputSchema = z
  .object({
    kind: z.enum(ENRICH_KINDS, { error: `kind must be one of ${ENRICH_KINDS.join(', ')}` }),
    /** The run the cohorts belong to (the first run of the chain, kept over continue-as-new). */
    execution: z.string().min(1),
    /** The last identifiant_unique of the previous page; '' for the first page. */
    after: z.string(),
    limit: z.number().int().min(1).max(50_000).optional(),
  })
  .strict();
export type EnrichPageInput = z.infer<typeof EnrichPageInputSchema>;

export interface EnrichPageResult {
  /** Where the next page starts; null when this was the last. */
  next: string | null;
  actors: number;
  proposals: number;
  /** New suggestions per cohort type (proposals already made before are not suggested again). */
  suggestions: Partial<Record<CohorteType, number>>;
  requests: number;
}

export interface EnrichDeps {
  sql: Sql;
  config: () => ConsolidationEnrichConfig;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (pure tests): nothing to report to.
  }
}

function cancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

const IDENTIFIANT_ACTION: Record<EnrichKind, string> = { ban: 'enrich_ban', 'sirene-closed': 'enrich_sirene_closed' };

/** The cohort a proposal belongs to: what a reviewer filters on. */
function cohortOf(p: EnrichmentProposal): CohorteType {
  if (p.kind !== 'geocode') return 'ENRICH_ACTEURS_FERMES';
  const data = p.changes[0]!.model_params.data;
  if ('code_postal' in data) return 'ENRICH_ACTEURS_CP';
  if ('ville' in data) return 'ENRICH_ACTEURS_VILLES';
  return 'ENRICH_ACTEURS_COORDONNEES';
}

interface ReviewedActor {
  identifiant_unique: string;
  nom: string;
  adresse: string | null;
  code_postal: string | null;
  ville: string | null;
  latitude: number | null;
  longitude: number | null;
  siret: string | null;
  statut: string;
}

/** Active actors after `after`, their reviewed values (revision over import), those the kind can use. */
async function reviewedActors(sql: Sql, kind: EnrichKind, after: string, limit: number): Promise<ReviewedActor[]> {
  const usable = kind === 'ban' ? sql`coalesce(r.adresse, a.adresse) <> ''` : sql`coalesce(r.siret, a.siret) ~ '^[0-9]{14}$'`;
  return sql<ReviewedActor[]>`
    select a.identifiant_unique, coalesce(r.nom, a.nom) as nom, coalesce(r.adresse, a.adresse) as adresse,
           coalesce(r.code_postal, a.code_postal) as code_postal, coalesce(r.ville, a.ville) as ville,
           coalesce(r.latitude, a.latitude) as latitude, coalesce(r.longitude, a.longitude) as longitude,
           coalesce(r.siret, a.siret) as siret, coalesce(r.statut, a.statut) as statut
      from consolidation.acteurs a
      left join consolidation.revision_acteurs r using (identifiant_unique)
     where a.identifiant_unique > ${after} and coalesce(r.statut, a.statut) = 'ACTIF' and ${usable}
     order by a.identifiant_unique
     limit ${limit}`;
}

/**
 * Records the page's proposals and writes the new ones as suggestions, one transaction: the cohorts of
 * this run are created on first use and their `nombre` counts what they hold.
 */
async function writeSuggestions(sql: Sql, kind: EnrichKind, execution: string, proposals: EnrichmentProposal[]): Promise<Partial<Record<CohorteType, number>>> {
  const written: Partial<Record<CohorteType, number>> = {};
  if (proposals.length === 0) return written;
  // Built (and so validated) before anything is written: a malformed change fails the page, not the table.
  const built = proposals.map((p) => ({
    proposal: p,
    fingerprint: proposalFingerprint(p),
    suggestion: buildSuggestion({
      cle: p.identifiantUnique,
      contexte: (p.evidence.contexte as Record<string, unknown> | undefined) ?? null,
      changes: p.changes,
      metadata: { kind: p.kind, reason: p.reason, evidence: p.evidence },
    }),
  }));
  await sql.begin(async (tx) => {
    const fresh = await tx<{ identifiant_unique: string; kind: string; fingerprint: string }[]>`
      insert into consolidation.enrich_proposals (kind, identifiant_unique, fingerprint, changes, reason, evidence)
      select * from unnest(
        ${built.map((b) => b.proposal.kind)}::text[], ${built.map((b) => b.proposal.identifiantUnique)}::text[], ${built.map((b) => b.fingerprint)}::text[],
        ${built.map((b) => JSON.stringify(b.proposal.changes))}::jsonb[], ${built.map((b) => b.proposal.reason)}::text[], ${built.map((b) => JSON.stringify(b.proposal.evidence))}::jsonb[]
      )
      on conflict (kind, identifiant_unique, fingerprint) do nothing
      returning identifiant_unique, kind, fingerprint`;
    const isFresh = new Set(fresh.map((f) => `${f.kind}\u0000${f.identifiant_unique}\u0000${f.fingerprint}`));
    const byCohort = new Map<CohorteType, typeof built>();
    for (const b of built) {
      if (!isFresh.has(`${b.proposal.kind}\u0000${b.proposal.identifiantUnique}\u0000${b.fingerprint}`)) continue;
      const type = cohortOf(b.proposal);
      byCohort.set(type, [...(byCohort.get(type) ?? []), b]);
    }
    for (const [type, items] of byCohort) {
      const [cohort] = await tx<{ id: number }[]>`
        insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, metadata)
        values (${IDENTIFIANT_ACTION[kind]}, ${execution}, ${type}, ${JSON.stringify({ nombre: 0, enrichissement: kind })}::jsonb)
        on conflict (identifiant_action, identifiant_execution, type_action) do update set updated_at = now()
        returning id`;
      const cohortId = Number(cohort!.id);
      const rows = items.map((b) => ({ cohorte_id: cohortId, cle: b.suggestion.cle, contexte: b.suggestion.contexte, changes: b.suggestion.changes, metadata: b.suggestion.metadata }));
      const inserted = await tx`
        insert into consolidation.suggestions (cohorte_id, cle, contexte, changes, metadata)
        select (x->>'cohorte_id')::bigint, x->>'cle', x->'contexte', x->'changes', x->'metadata' from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) x
        on conflict (cohorte_id, cle) do nothing`;
      const [current] = await tx<{ metadata: { nombre?: number; par_type?: Record<string, number> } }[]>`
        select metadata from consolidation.suggestion_cohortes where id = ${cohortId} for update`;
      const parType = { ...current!.metadata.par_type };
      for (const b of items) parType[b.proposal.kind] = (parType[b.proposal.kind] ?? 0) + 1;
      const metadata = { ...current!.metadata, nombre: (current!.metadata.nombre ?? 0) + inserted.count, par_type: parType };
      await tx`update consolidation.suggestion_cohortes set metadata = ${JSON.stringify(metadata)}::jsonb, updated_at = now() where id = ${cohortId}`;
      written[type] = (written[type] ?? 0) + inserted.count;
      // A cohort of this run already reviewed whole while later pages ran is open again for the new ones.
      if (inserted.count > 0) await followCohorts(tx, [cohortId]);
    }
  });
  return written;
}

/** Streams the first `.csv` entry of a zip as it arrives (fflate's streaming inflater; nothing held whole). */
export async function* csvEntryOfZip(body: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | undefined;
  let entry: string | undefined;
  let complete = false;
  const unzip = new Unzip((file) => {
    if (entry !== undefined || !file.name.toLowerCase().endsWith('.csv')) return;
    entry = file.name;
    file.ondata = (err, data, final) => {
      if (err) failure = err;
      else {
        if (data.length > 0) out.push(data);
        if (final) complete = true;
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  const drain = function* () {
    if (failure) throw new InvalidInputError(`${where}: the zip entry ${entry ?? ''} cannot be inflated: ${failure.message}`);
    while (out.length > 0) yield out.shift()!;
  };
  for await (const chunk of body) {
    unzip.push(chunk);
    yield* drain();
  }
  unzip.push(new Uint8Array(0), true);
  yield* drain();
  if (entry === undefined) throw new InvalidInputError(`${where}: the zip holds no .csv entry`);
  if (!complete) throw new TransientError('truncated', `${where}: the download ended inside ${entry}`);
}

/** Refuses a run that cannot work before it starts: a bad kind, bad settings, no SIRENE loaded. */
export async function consolidationEnrichCheck(deps: EnrichDeps, input: { kind: EnrichKind }): Promise<{ kind: EnrichKind; pageSize: number }> {
  const { sql } = deps;
  const kind = EnrichPageInputSchema.shape.kind.parse(input.kind);
  const config = deps.config();
  if (kind === 'sirene-closed') {
    const [loaded] = await sql<{ any: boolean }[]>`select exists (select 1 from consolidation.sirene_etablissements) as any`;
    if (!loaded!.any) throw new NotAvailableError('no SIRENE stock loaded yet: run the consolidationSireneLoad workflow (Schedule consolidation-sirene-load) first');
  }
  return { kind, pageSize: config.pageSize };
}

export async function consolidationEnrichPage(deps: EnrichDeps, input: EnrichPageInput): Promise<EnrichPageResult> {
  const { sql } = deps;
  const { kind, execution, after, limit: asked } = EnrichPageInputSchema.parse(input);
  const config = deps.config();
  const limit = asked ?? config.pageSize;
  const actors = await reviewedActors(sql, kind, after, limit);
  heartbeat({ kind, after, actors: actors.length });
  let proposals: EnrichmentProposal[];
  let requests = 0;
  if (kind === 'ban') {
    const ban = new BanClient(sql, config);
    const located: ActorLocation[] = actors.map((a) => ({
      identifiantUnique: a.identifiant_unique,
      adresse: a.adresse,
      codePostal: a.code_postal,
      ville: a.ville,
      latitude: a.latitude,
      longitude: a.longitude,
    }));
    const geocoded = await ban.geocodeBatch(
      actors.map((a) => ({ id: a.identifiant_unique, adresse: a.adresse ?? '', codePostal: a.code_postal, ville: a.ville })),
      cancellation(),
    );
    requests = ban.service.stats.requests;
    proposals = geocodeProposals(located, geocoded);
  } else {
    proposals = await proposeClosedActors(
      sql,
      actors.map((a) => ({ identifiantUnique: a.identifiant_unique, siret: a.siret, nom: a.nom, statut: a.statut, adresse: a.adresse, codePostal: a.code_postal, ville: a.ville })),
    );
  }
  heartbeat({ kind, after, actors: actors.length, proposals: proposals.length });
  const suggestions = await writeSuggestions(sql, kind, execution, proposals);
  return { next: actors.length === limit ? actors[actors.length - 1]!.identifiant_unique : null, actors: actors.length, proposals: proposals.length, suggestions, requests };
}

/**
 * Downloads INSEE's establishment stock and loads it with COPY as it streams (a zip is inflated on the
 * fly), heartbeating the rows loaded; the previous load stays whole until the new one commits.
 */
export async function consolidationSireneLoad(deps: EnrichDeps): Promise<SireneLoadResult & { url: string }> {
  const { sql } = deps;
  const config = deps.config();
  const url = config.sirene.url;
  const signal = AbortSignal.any([AbortSignal.timeout(config.sirene.timeoutMs), ...(cancellation() ? [cancellation()!] : [])]);
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    if (!cancellation()?.aborted) countHttpRequest(url, { error: err });
    throw new TransientError('network', `SIRENE stock ${url}: ${(err as Error).message}`);
  }
  countHttpRequest(url, { status: res.status });
  if (res.status === 404 || res.status === 410) throw new NotAvailableError(`SIRENE stock ${url}: ${res.status}`, { status: res.status });
  if (res.status >= 500 || res.status === 429) throw new TransientError('server', `SIRENE stock ${url}: ${res.status}`, { status: res.status });
  if (!res.ok || !res.body) throw new InvalidInputError(`SIRENE stock ${url}: ${res.status}`, { status: res.status });
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'StockEtablissement');
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  // A zip starts with its local file header "PK\x03\x04"; anything else is read as the CSV itself.
  const reader = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const first = await reader.next();
  const head = first.done ? new Uint8Array(0) : first.value;
  const rest = (async function* () {
    if (head.length > 0) yield head;
    for (let n = await reader.next(); !n.done; n = await reader.next()) yield n.value;
  })();
  const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  const csv = isZip ? csvEntryOfZip(rest, name) : rest;
  let last = 0;
  const counts = await loadSireneStock(sql, csv, name, (c) => {
    if (c.rows - last >= 10_000 || last === 0) {
      last = c.rows;
      heartbeat({ rows: c.rows });
    }
  });
  return { ...counts, url };
}

/** The enrichment activities, as the worker registers them (see `bindActivities`). */
export const consolidationEnrichActivities = { consolidationEnrichCheck, consolidationEnrichPage, consolidationSireneLoad };

export type EnrichActivities = BoundActivities<typeof consolidationEnrichActivities>;
