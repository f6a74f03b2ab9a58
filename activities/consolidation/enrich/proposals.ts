/**
 * Enrichment results as proposals, never as edits: `{ identifiantUnique, changes, reason, evidence }` with
 * changes in the suggestion change models (`acteur_update_data` for corrected postcode / city / coordinates
 * or a replaced SIRET, `acteur_update_statut` for a closed establishment). They are kept in
 * `consolidation.enrich_proposals` (idempotently: the same proposal twice is one row), and the new ones
 * become suggestion cohorts that a person accepts or rejects (./run.ts).
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { EnrichProposalKind } from '../../../schema/consolidation/enrich';
import type { Geocoded } from './ban';

export type EnrichModelName = 'acteur_update_data' | 'acteur_update_statut';

export const changeSchema = z.object({
  order: z.number().int().min(1),
  reason: z.string().min(5),
  model_name: z.enum(['acteur_update_data', 'acteur_update_statut']),
  model_params: z.object({ id: z.string().min(1), data: z.record(z.string(), z.unknown()) }),
});

export type EnrichChange = z.infer<typeof changeSchema>;

export interface EnrichmentProposal {
  kind: EnrichProposalKind;
  identifiantUnique: string;
  changes: EnrichChange[];
  reason: string;
  evidence: Record<string, unknown>;
}

/** A change, validated as it is made (a malformed one is a bug here, not a reviewer's problem). */
export function changeOf(order: number, reason: string, model: EnrichModelName, params: { id: string; data: Record<string, unknown> }): EnrichChange {
  return changeSchema.parse({ order, reason, model_name: model, model_params: params });
}

export interface ActorLocation {
  identifiantUnique: string;
  adresse: string | null;
  codePostal: string | null;
  ville: string | null;
  latitude: number | null;
  longitude: number | null;
}

const foldCity = (s: string | null) =>
  (s ?? '')
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** Metres between two points (haversine, R = 6 371 000 m, as the clustering's distance). */
export function distanceMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(a));
}

/**
 * From accepted geocodes: the fields BAN corrects (postcode, city, coordinates when missing or more than
 * `moveMetres` away). Rejected or empty answers, and answers that change nothing, propose nothing.
 */
export function geocodeProposals(actors: ActorLocation[], geocoded: Geocoded[], moveMetres = 100): EnrichmentProposal[] {
  const byId = new Map(geocoded.map((g) => [g.id, g]));
  const out: EnrichmentProposal[] = [];
  for (const actor of actors) {
    const g = byId.get(actor.identifiantUnique);
    if (!g?.accepted || !g.result) continue;
    const r = g.result;
    const data: Record<string, unknown> = {};
    if (r.postcode && r.postcode !== (actor.codePostal ?? '').trim()) data.code_postal = r.postcode;
    if (r.city && foldCity(r.city) !== foldCity(actor.ville)) data.ville = r.city;
    const far =
      actor.latitude === null || actor.longitude === null || distanceMetres(actor.latitude, actor.longitude, r.latitude, r.longitude) > moveMetres;
    if (far) {
      data.latitude = r.latitude;
      data.longitude = r.longitude;
    }
    if (Object.keys(data).length === 0) continue;
    const fields = Object.keys(data).filter((k) => k !== 'longitude');
    out.push({
      kind: 'geocode',
      identifiantUnique: actor.identifiantUnique,
      reason: `Adresse reconnue par la BAN (ratio ${g.ratio}, score ${r.score.toFixed(2)}): ${fields.join(', ')} corrigé${fields.length > 1 ? 's' : ''}`,
      changes: [changeOf(1, 'On fait confiance à la BAN', 'acteur_update_data', { id: actor.identifiantUnique, data })],
      evidence: {
        source: 'ban',
        query: g.query,
        label: r.label,
        score: r.score,
        ratio: g.ratio,
        banId: r.banId,
        type: r.type,
        contexte: { adresse: actor.adresse, code_postal: actor.codePostal, ville: actor.ville, latitude: actor.latitude, longitude: actor.longitude },
      },
    });
  }
  return out;
}

/** What makes two proposals the same: their changes (with the actor and kind, the table's key). */
export function proposalFingerprint(p: EnrichmentProposal): string {
  return createHash('sha256').update(JSON.stringify(p.changes)).digest('hex').slice(0, 32);
}

/** Keeps proposals; the same proposal again (same actor, kind and changes) is not duplicated. Returns how many are new. */
export async function saveProposals(sql: Sql, proposals: EnrichmentProposal[]): Promise<number> {
  if (proposals.length === 0) return 0;
  const res = await sql`
    insert into consolidation.enrich_proposals (kind, identifiant_unique, fingerprint, changes, reason, evidence)
    select * from unnest(
      ${proposals.map((p) => p.kind)}::text[], ${proposals.map((p) => p.identifiantUnique)}::text[], ${proposals.map(proposalFingerprint)}::text[],
      ${proposals.map((p) => JSON.stringify(p.changes))}::jsonb[], ${proposals.map((p) => p.reason)}::text[], ${proposals.map((p) => JSON.stringify(p.evidence))}::jsonb[]
    )
    on conflict (kind, identifiant_unique, fingerprint) do nothing`;
  return res.count;
}
