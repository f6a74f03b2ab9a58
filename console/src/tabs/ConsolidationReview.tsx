import { Alert, Box, Button, Checkbox, Group, Loader, MultiSelect, ScrollArea, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useIsFetching, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { apiGet, apiWrite, errorMessage } from '../api';
import { StatusBadge } from '../components/Labels';
import { formatCount, formatDay } from '../format';

// A suggestion's (and a cohort's) statut, QFDMO's codes, in words: waiting for review, accepted and waiting to be applied, …
const STATUTS: Record<string, { label: string; color: string }> = {
  AVALIDER: { label: 'à valider', color: 'blue' },
  ATRAITER: { label: 'à traiter', color: 'teal' },
  REJETEE: { label: 'rejetée', color: 'gray' },
  ENCOURS: { label: 'en cours', color: 'yellow' },
  SUCCES: { label: 'succès', color: 'green' },
  ERREUR: { label: 'erreur', color: 'red' },
};
// Which statuts a decision moves a suggestion from (the API's rule, activities/consolidation/review): a row's
// button for a decision that would leave it as it is is disabled rather than answered "0 changed".
const DECIDABLE: Record<Verdict, string[]> = { accept: ['AVALIDER', 'REJETEE'], reject: ['AVALIDER', 'ATRAITER'] };
const STATUT_OPTIONS = Object.entries(STATUTS).map(([value, s]) => ({ value, label: s.label }));
function Statut({ code, count, variant = 'light' }: { code: string; count?: number; variant?: 'light' | 'outline' }) {
  const s = STATUTS[code];
  const label = s?.label ?? code;
  return <StatusBadge code={code} label={count === undefined ? label : `${label} ${formatCount(count)}`} color={s?.color ?? 'gray'} variant={variant} />;
}
const PAGE = 1000;
/** Pages out of view kept in memory (besides the ones in view). */
const CACHED_PAGES = 6;
const ROW_HEIGHT = 36;
const FIELD_COUNTS_HEIGHT = 240;
/** A row's accept and reject buttons (the header keeps the same room so the columns line up). */
const ACTIONS_WIDTH = 120;

interface Cohort {
  id: number;
  identifiant_action: string;
  type_action: string;
  statut: string;
  source_code: string | null;
  colonnes: Record<string, [number, number, number]>;
  suggestions: Record<string, number>;
  total: number;
  created_at: string;
}
interface CohortDetail extends Cohort {
  champs: Record<string, number>;
}
interface Suggestion {
  id: number;
  cle: string;
  statut: string;
  changes: { model_name?: string; model_params?: { data?: Record<string, unknown> } }[];
  /** The acteur's values when the suggestion was made (what a correction replaces). */
  contexte?: Record<string, unknown> | null;
  metadata?: { reason?: string; evidence?: Record<string, unknown> } | null;
}
interface SuggestionPage {
  items: Suggestion[];
  next_cursor: string | null;
  /** null when asked with count=false. */
  total: number | null;
}
interface Decision {
  decision: string;
  changed: number;
  refused_total: number;
  missing: number[];
}
type Verdict = 'accept' | 'reject';
interface SuggestionQuery {
  cohorte_id: number;
  statut?: string[];
  champ?: string;
  cle?: string;
}

const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The fields a suggestion's changes set, with the values proposed; a correction of a value the acteur had
 * when the suggestion was made reads "old → new", so a reviewer sees what accepting it replaces.
 */
function proposed(s: Suggestion): string {
  const parts: string[] = [];
  const before = s.contexte ?? {};
  for (const ch of s.changes)
    for (const [k, v] of Object.entries(ch.model_params?.data ?? {})) {
      const was = before[k];
      parts.push(was !== undefined && was !== null && shown(was) !== shown(v) ? `${k}: ${shown(was)} → ${shown(v)}` : `${k}: ${shown(v)}`);
    }
  return parts.join(' · ') || (s.changes.map((c) => c.model_name).join(', ') ?? '');
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * What an enrichment's evidence adds to its reason (the reason already says which fields and why): the
 * address the BAN recognised and its score; the closing day SIRENE gives and the replacing
 * establishment's name. activities/consolidation/enrich writes it as `metadata.evidence`.
 */
function evidenceLabel(evidence: Record<string, unknown> | undefined): string | undefined {
  if (!evidence || typeof evidence !== 'object') return undefined;
  if (evidence.source === 'ban') {
    const label = text(evidence.label);
    if (!label) return undefined;
    return typeof evidence.score === 'number' ? `BAN : ${label} (score ${evidence.score.toFixed(2)})` : `BAN : ${label}`;
  }
  if (evidence.source === 'sirene') {
    const closed = text(evidence.dateFermeture);
    const replacement = evidence.replacement && typeof evidence.replacement === 'object' ? (evidence.replacement as Record<string, unknown>) : undefined;
    const by = replacement ? (text(replacement.nom) ?? text(replacement.siret)) : undefined;
    const parts = [closed ? `fermé le ${formatDay(closed)}` : undefined, by ? `remplacé par ${by}` : undefined].filter(Boolean);
    return parts.length ? `SIRENE : ${parts.join(', ')}` : undefined;
  }
  return text(evidence.source);
}

/** The "why" column: the suggestion's reason, and under it what its evidence says when it has some (two short lines fit a row). */
function Why({ reason, evidence }: { reason?: string; evidence?: string }) {
  const title = [reason, evidence].filter(Boolean).join('\n') || undefined;
  return (
    <Stack gap={0} w={240} title={title}>
      <Text size="xs" c="dimmed" truncate lh={evidence ? 1.3 : undefined}>
        {reason ?? ''}
      </Text>
      {evidence ? (
        <Text size="xs" c="dimmed" fs="italic" truncate lh={1.3} data-testid="review-evidence">
          {evidence}
        </Text>
      ) : null}
    </Stack>
  );
}

function Cohorts({ selected, onSelect }: { selected: number | null; onSelect: (cohort: Cohort) => void }) {
  const q = useQuery({ queryKey: ['cohorts'], queryFn: () => apiGet<{ items: Cohort[] }>('/api/v1/consolidation/cohorts', { limit: 100 }) });
  if (q.isError) return <Alert color="red">{errorMessage(q.error)}</Alert>;
  return (
    <Table highlightOnHover withTableBorder data-testid="cohorts">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Cohort</Table.Th>
          <Table.Th>Type</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Suggestions per status</Table.Th>
          <Table.Th>Total</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {q.data?.items.map((c) => (
          <Table.Tr key={c.id} onClick={() => onSelect(c)} style={{ cursor: 'pointer' }} bg={c.id === selected ? 'var(--mantine-color-teal-light)' : undefined} data-testid={`cohort-${c.id}`}>
            <Table.Td>
              #{c.id} {c.identifiant_action}
            </Table.Td>
            <Table.Td>{c.type_action}</Table.Td>
            <Table.Td>
              <Statut code={c.statut} />
            </Table.Td>
            <Table.Td>
              <Group gap={4}>
                {Object.entries(c.suggestions).map(([s, n]) => (
                  <Statut key={s} code={s} count={n} variant="outline" />
                ))}
              </Group>
            </Table.Td>
            <Table.Td>{formatCount(c.total)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function FieldCounts({ cohort }: { cohort: CohortDetail }) {
  const columns = Object.entries(cohort.colonnes);
  // A source cohort sets every column (about thirty): the counts scroll in a bounded box so the grid stays in view.
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <ScrollArea.Autosize mah={FIELD_COUNTS_HEIGHT} type="auto">
        <Table withTableBorder stickyHeader data-testid="cohort-fields">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Field</Table.Th>
              <Table.Th>Suggestions setting it</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {Object.entries(cohort.champs).map(([f, n]) => (
              <Table.Tr key={f}>
                <Table.Td>{f}</Table.Td>
                <Table.Td>{formatCount(n)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
      {columns.length > 0 && (
        <ScrollArea.Autosize mah={FIELD_COUNTS_HEIGHT} type="auto">
          <Table withTableBorder stickyHeader>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Column</Table.Th>
                <Table.Th>Modified</Table.Th>
                <Table.Th>Removed</Table.Th>
                <Table.Th>Added</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {columns.map(([col, [m, s, a]]) => (
                <Table.Tr key={col}>
                  <Table.Td>{col}</Table.Td>
                  <Table.Td>{formatCount(m)}</Table.Td>
                  <Table.Td>{formatCount(s)}</Table.Td>
                  <Table.Td>{formatCount(a)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea.Autosize>
      )}
    </SimpleGrid>
  );
}

/**
 * The grid's rows by pages of PAGE fetched on demand at their offset (a jump to row 40,000 fetches that
 * page, not the 40 before it), with a bounded cache: the pages in view stay, at most CACHED_PAGES others
 * are kept (the least recently used go first), so a scroll through 50k rows holds a few thousand. The count
 * is its own request, sent with the first page rather than before it; until it answers, the grid holds the
 * first page's rows.
 */
function useSuggestionPages(cohortId: number, filter: SuggestionQuery, range: { first: number; last: number }) {
  const client = useQueryClient();
  const query = useMemo(
    () => ({ statut: filter.statut?.join(',') || undefined, champ: filter.champ ?? undefined, cle: filter.cle ?? undefined }),
    [filter],
  );
  const count = useQuery({
    queryKey: ['suggestions', filter, 'count'],
    queryFn: ({ signal }) => apiGet<SuggestionPage>(`/api/v1/consolidation/cohorts/${cohortId}/suggestions`, { ...query, limit: 1 }, { signal }),
  });
  const wanted = useMemo(() => {
    const pages: number[] = [];
    for (let p = Math.floor(range.first / PAGE); p <= Math.floor(range.last / PAGE); p++) pages.push(p);
    return pages;
  }, [range.first, range.last]);
  const pages = useQueries({
    queries: wanted.map((p) => ({
      queryKey: ['suggestions', filter, 'page', p],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        apiGet<SuggestionPage>(`/api/v1/consolidation/cohorts/${cohortId}/suggestions`, { ...query, limit: PAGE, offset: p * PAGE || undefined, count: 'false' }, { signal }),
      gcTime: 60_000,
    })),
  });
  // The cache's bound: pages out of view beyond the CACHED_PAGES most recently fetched are dropped now
  // rather than when gcTime says.
  useEffect(() => {
    const cached = client
      .getQueryCache()
      .findAll({ queryKey: ['suggestions', filter, 'page'] })
      .filter((q) => !q.isActive())
      .sort((a, b) => b.state.dataUpdatedAt - a.state.dataUpdatedAt);
    for (const q of cached.slice(CACHED_PAGES)) client.getQueryCache().remove(q);
  }, [client, filter, wanted]);
  const rowAt = (index: number): Suggestion | undefined => {
    const i = wanted.indexOf(Math.floor(index / PAGE));
    return i < 0 ? undefined : pages[i]?.data?.items[index % PAGE];
  };
  const first = client.getQueryData<SuggestionPage>(['suggestions', filter, 'page', 0]);
  // Until the count answers: the first page's rows, and one more row ("loading…") when there are more.
  const total = count.data?.total ?? (first ? first.items.length + (first.next_cursor ? 1 : 0) : 0);
  const error = count.error ?? pages.find((p) => p.error)?.error ?? null;
  return { total, counted: typeof count.data?.total === 'number', rowAt, error };
}

function Grid({ cohortId, champs, waiting }: { cohortId: number; champs: string[]; waiting: boolean }) {
  const client = useQueryClient();
  // The waiting suggestions first; a cohort with none left opens on all of them (what was decided, applied or failed).
  const [statut, setStatut] = useState<string[]>(waiting ? ['AVALIDER'] : []);
  const [champ, setChamp] = useState<string | null>(null);
  const [cle, setCle] = useState('');
  const [par, setPar] = useState('console');
  const [except, setExcept] = useState<Set<number>>(new Set());
  const [result, setResult] = useState<Decision | null>(null);
  const filter = useMemo<SuggestionQuery>(() => ({ cohorte_id: cohortId, ...(statut.length ? { statut } : {}), ...(champ ? { champ } : {}), ...(cle.trim() ? { cle: cle.trim() } : {}) }), [cohortId, statut, champ, cle]);
  useEffect(() => setExcept(new Set()), [filter]);

  const viewport = useRef<HTMLDivElement>(null);
  const [range, setRange] = useState({ first: 0, last: 0 });
  const pages = useSuggestionPages(cohortId, filter, range);
  const total = pages.total;
  const virtualizer = useVirtualizer({ count: total, getScrollElement: () => viewport.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => setRange((r) => (r.first === firstIndex && r.last === lastIndex ? r : { first: firstIndex, last: lastIndex })), [firstIndex, lastIndex]);
  useEffect(() => virtualizer.scrollToOffset(0), [filter, virtualizer]);
  const fetching = useIsFetching({ queryKey: ['suggestions', filter] });

  const refresh = async () => {
    await Promise.all([client.invalidateQueries({ queryKey: ['suggestions'] }), client.invalidateQueries({ queryKey: ['cohorts'] }), client.invalidateQueries({ queryKey: ['cohort', cohortId] })]);
  };
  const one = useMutation({
    mutationFn: ({ id, decision }: { id: number; decision: Verdict }) => apiWrite<Decision>('POST', `/api/v1/consolidation/suggestions/${id}/${decision}`, { par }),
    onSuccess: async (r) => {
      setResult(r);
      await refresh();
    },
  });
  const all = useMutation({
    mutationFn: (decision: Verdict) => apiWrite<Decision>('POST', `/api/v1/consolidation/suggestions/${decision}`, { par, filter, except: [...except] }),
    onSuccess: async (r) => {
      setResult(r);
      setExcept(new Set());
      await refresh();
    },
  });
  const error = pages.error ?? one.error ?? all.error;
  const toggle = (id: number) =>
    setExcept((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <Stack data-testid="review-grid">
      <Group align="end">
        <MultiSelect label="Status" placeholder={statut.length ? undefined : 'any status'} data={STATUT_OPTIONS} value={statut} onChange={setStatut} w={280} clearable data-testid="review-statut" />
        <Select label="Field" data={champs} value={champ} onChange={setChamp} clearable w={200} data-testid="review-champ" />
        <TextInput label="Key starts with" value={cle} onChange={(e) => setCle(e.currentTarget.value)} w={200} data-testid="review-cle" />
        <TextInput label="Reviewer" value={par} onChange={(e) => setPar(e.currentTarget.value)} w={160} data-testid="review-par" />
      </Group>
      <Group>
        <Text data-testid="review-total">
          {formatCount(total)} suggestions match{except.size ? `, ${formatCount(except.size)} excluded` : ''}
        </Text>
        <Button color="teal" disabled={!total || !par.trim()} loading={all.isPending} onClick={() => all.mutate('accept')} data-testid="accept-all">
          Accept all filtered{except.size ? ` except ${formatCount(except.size)}` : ''}
        </Button>
        <Button color="red" variant="light" disabled={!total || !par.trim()} loading={all.isPending} onClick={() => all.mutate('reject')} data-testid="reject-all">
          Reject all filtered{except.size ? ` except ${formatCount(except.size)}` : ''}
        </Button>
        {fetching > 0 && <Loader size="sm" />}
      </Group>
      {error && <Alert color="red">{errorMessage(error)}</Alert>}
      {result && (
        <Alert color="teal" withCloseButton onClose={() => setResult(null)} data-testid="review-result">
          {result.decision}: {formatCount(result.changed)} changed{result.refused_total ? `, ${formatCount(result.refused_total)} left as they were (status)` : ''}
        </Alert>
      )}
      <Group px="xs" gap="sm" wrap="nowrap">
        <Text size="xs" fw={700} w={60}>
          except
        </Text>
        <Text size="xs" fw={700} w={80}>
          id
        </Text>
        <Text size="xs" fw={700} w={200}>
          key
        </Text>
        <Text size="xs" fw={700} w={100}>
          status
        </Text>
        <Text size="xs" fw={700} style={{ flex: 1 }}>
          proposed
        </Text>
        <Text size="xs" fw={700} w={240}>
          why
        </Text>
        <Box w={ACTIONS_WIDTH} />
      </Group>
      <ScrollArea h={520} viewportRef={viewport} type="auto" data-testid="review-scroll">
        <Box style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const s = pages.rowAt(v.index);
            return (
              <Box key={v.key} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}>
                {s ? (
                  <Group px="xs" gap="sm" wrap="nowrap" h={ROW_HEIGHT} data-testid="review-row" data-id={s.id}>
                    <Checkbox w={60} checked={except.has(s.id)} onChange={() => toggle(s.id)} aria-label={`except ${s.id}`} />
                    <Text size="sm" w={80}>
                      {s.id}
                    </Text>
                    <Text size="sm" w={200} truncate title={s.cle}>
                      {s.cle}
                    </Text>
                    <Box w={100}>
                      <Statut code={s.statut} />
                    </Box>
                    <Text size="sm" truncate style={{ flex: 1 }} title={proposed(s)}>
                      {proposed(s)}
                    </Text>
                    <Why reason={s.metadata?.reason} evidence={evidenceLabel(s.metadata?.evidence)} />
                    <Group gap={4} w={ACTIONS_WIDTH} wrap="nowrap" justify="flex-end">
                      <Button size="compact-xs" color="teal" variant="light" disabled={!DECIDABLE.accept.includes(s.statut)} onClick={() => one.mutate({ id: s.id, decision: 'accept' })} aria-label={`accept ${s.id}`}>
                        accept
                      </Button>
                      <Button size="compact-xs" color="red" variant="subtle" disabled={!DECIDABLE.reject.includes(s.statut)} onClick={() => one.mutate({ id: s.id, decision: 'reject' })} aria-label={`reject ${s.id}`}>
                        reject
                      </Button>
                    </Group>
                  </Group>
                ) : (
                  <Text size="sm" c="dimmed" px="xs" h={ROW_HEIGHT}>
                    loading…
                  </Text>
                )}
              </Box>
            );
          })}
        </Box>
      </ScrollArea>
    </Stack>
  );
}

/** Cohorts with their per-field counts; a virtual-scrolled grid of a cohort's suggestions with per-row and "all filtered except these" decisions. */
export default function ConsolidationReview() {
  const [selectedCohort, setSelectedCohort] = useState<Cohort | null>(null);
  const selected = selectedCohort?.id ?? null;
  const cohort = useQuery({ queryKey: ['cohort', selected], enabled: selected !== null, queryFn: () => apiGet<CohortDetail>(`/api/v1/consolidation/cohorts/${selected}`) });
  return (
    <Stack data-testid="review-tab">
      <Title order={3}>Consolidation review</Title>
      <Cohorts selected={selected} onSelect={setSelectedCohort} />
      {cohort.isError && <Alert color="red">{errorMessage(cohort.error)}</Alert>}
      {cohort.data && (
        <>
          <Title order={4}>
            Cohort #{cohort.data.id} · {cohort.data.identifiant_action}
          </Title>
          <FieldCounts cohort={cohort.data} />
        </>
      )}
      {/* The grid does not wait for the cohort's per-field counts (a pass over every suggestion's changes): its first page, its count and the cohort go out together. */}
      {selectedCohort && <Grid key={selectedCohort.id} cohortId={selectedCohort.id} champs={Object.keys(cohort.data?.champs ?? {})} waiting={(selectedCohort.suggestions.AVALIDER ?? 0) > 0} />}
    </Stack>
  );
}
