/** The actors clustering reads: the displayed state (revision over source) of each candidate. */
export type ActeurStatut = 'ACTIF' | 'INACTIF' | 'SUPPRIME';

export interface ClusterCandidate {
  identifiantUnique: string;
  estParent: boolean;
  /** Null for candidates; an existing child carries its parent's id. */
  parentId: string | null;
  /** The actor's own source; null for a parent. */
  sourceCode: string | null;
  /** A child: its source; a parent: its children's sources. */
  sourceCodes: readonly string[];
  acteurTypeCode: string | null;
  statut: ActeurStatut;
  nombreEnfants: number;
  latitude: number | null;
  longitude: number | null;
  /** The non-normalised columns (nom, adresse, code_postal, ville, siret…): parent data is picked from these. */
  data: Record<string, unknown>;
}
