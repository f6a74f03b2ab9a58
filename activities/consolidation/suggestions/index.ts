/**
 * Suggestions as data: each one's ordered changes are validated when it is built (QFDMOD validates
 * change params at creation), and a source run becomes one cohort per action type.
 */
import { ChangesSchema, SuggestionInputSchema, type Change, type SuggestionInput } from '../../../schema/consolidation/items';
import type { CohorteType } from '../../../schema/consolidation/tables';
import type { SourceDiff } from '../diff';

export class InvalidSuggestionError extends Error {
  constructor(
    readonly cle: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`suggestion ${cle} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidSuggestionError';
  }
}

export interface ValidSuggestion {
  cle: string;
  contexte: Record<string, unknown> | null;
  changes: Change[];
  metadata: Record<string, unknown>;
}

export function buildSuggestion(input: SuggestionInput): ValidSuggestion {
  const parsed = SuggestionInputSchema.safeParse(input);
  if (!parsed.success) throw new InvalidSuggestionError(String((input as { cle?: unknown }).cle ?? '?'), parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return parsed.data as ValidSuggestion;
}

export function validateChanges(changes: unknown): Change[] {
  return ChangesSchema.parse(changes);
}

/** The three cohorts of a source run, each with its suggestions and the counts a reviewer reads. */
export function sourceCohorts(diff: SourceDiff): { type: CohorteType; metadata: Record<string, unknown>; suggestions: ValidSuggestion[] }[] {
  const create = diff.toCreate.map((a) => {
    const { identifiant_unique, ...data } = a;
    return buildSuggestion({ cle: identifiant_unique, changes: [{ order: 1, reason: 'nouvel acteur de la source', model_name: 'source_acteur_create', model_params: { id: identifiant_unique, data } }] });
  });
  const update = diff.toUpdate.map(({ acteur, stored, changed }) =>
    buildSuggestion({
      cle: stored.identifiant_unique,
      contexte: stored as unknown as Record<string, unknown>,
      changes: [{ order: 1, reason: 'acteur modifié dans la source', model_name: 'source_acteur_update', model_params: { id: stored.identifiant_unique, data: changed } }],
      metadata: { identifiant_unique_source: acteur.identifiant_unique },
    }),
  );
  const remove = diff.toDelete.map((s) =>
    buildSuggestion({
      cle: s.identifiant_unique,
      contexte: s as unknown as Record<string, unknown>,
      changes: [{ order: 1, reason: 'acteur absent de la source', model_name: 'source_acteur_delete', model_params: { id: s.identifiant_unique } }],
    }),
  );
  return [
    { type: 'SOURCE_AJOUT', metadata: { nombre: create.length }, suggestions: create },
    { type: 'SOURCE_MODIFICATION', metadata: { nombre: update.length, colonnes: diff.counts, inchanges: diff.unchanged, anonymises_ignores: diff.skippedAnonymised }, suggestions: update },
    { type: 'SOURCE_SUPRESSION', metadata: { nombre: remove.length }, suggestions: remove },
  ];
}
