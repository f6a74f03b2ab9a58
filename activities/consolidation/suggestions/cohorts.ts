/**
 * A cohort's status follows its suggestions (QFDMOD's SuggestionCohorte): AVALIDER while any of them
 * waits for a decision, ENCOURS once all are decided and some are still to apply (ATRAITER) or being
 * applied (ENCOURS), SUCCES once every one is done — applied (SUCCES), failed (ERREUR) or rejected.
 * The cohort statuses stay QFDMOD's three, so a cohort whose suggestions partly failed is SUCCES too:
 * its `metadata.bilan` then says how many of each ended how ({succes, erreur, rejetee}), and the
 * review screens show it next to the status.
 *
 * Called inside the transaction that moves suggestions, so the cohort and its suggestions never
 * disagree once committed. The cohort rows are locked first (in id order, like every caller), and the
 * status is read by a later statement: under READ COMMITTED that statement sees whatever a concurrent
 * transaction that held the lock committed, so two last suggestions applied at once still close it.
 */
import type { TransactionSql } from 'postgres';

export async function followCohorts(tx: TransactionSql, cohortIds: readonly (number | string)[]): Promise<void> {
  const ids = [...new Set(cohortIds.map(Number))].sort((a, b) => a - b);
  if (ids.length === 0) return;
  await tx`select id from consolidation.suggestion_cohortes where id = any(${ids}::bigint[]) order by id for no key update`;
  // Each exists() reads the (cohorte_id, statut, id) index: a cohort of 50k costs what a cohort of 10 does.
  await tx`
    with target as (
      select c.id, c.statut as avant,
             case when exists (select 1 from consolidation.suggestions s where s.cohorte_id = c.id and s.statut = 'AVALIDER') then 'AVALIDER'
                  when exists (select 1 from consolidation.suggestions s where s.cohorte_id = c.id and s.statut in ('ATRAITER', 'ENCOURS')) then 'ENCOURS'
                  else 'SUCCES' end as apres
        from consolidation.suggestion_cohortes c
       where c.id = any(${ids}::bigint[])
    )
    update consolidation.suggestion_cohortes c
       set statut = t.apres, updated_at = now(),
           metadata = case when t.apres = 'SUCCES'
             then c.metadata || jsonb_build_object('bilan', (
               select jsonb_build_object(
                        'succes', count(*) filter (where s.statut = 'SUCCES'),
                        'erreur', count(*) filter (where s.statut = 'ERREUR'),
                        'rejetee', count(*) filter (where s.statut = 'REJETEE'))
                 from consolidation.suggestions s where s.cohorte_id = c.id))
             else c.metadata - 'bilan' end
      from target t
     where c.id = t.id and t.avant <> t.apres`;
}
