import { Alert, Anchor, Button, Drawer, Group, Loader, Mark, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Fragment, lazy, Suspense, useState, type FormEvent } from 'react';
import { apiGet, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { formatAmount, formatCount } from '../format';

type Links = Record<string, string>;
interface Summary {
  org_acronyme: string;
  ref_consultation: string;
  reference: string | null;
  object: string | null;
  buyer: string | null;
  market_kind: string | null;
  published_on: string | null;
  deadline: string | null;
  estimation_ttc: string | null;
  lot_count: number | null;
  statut: string;
  links: Links;
  highlights?: { object: string | null; buyer: string | null; reference: string | null };
}
interface Page {
  items: Summary[];
  page: { has_more: boolean; next_cursor: string | null };
}
interface Detail extends Summary {
  procedure: string | null;
  passation_mode: string | null;
  execution_place: string | null;
  detail_url: string | null;
  lots: { lot_number: number; object: string | null; category: string | null; estimation_ttc: string | null; caution_provisoire: string | null }[];
  notices: { id_avis: string; kind: string; label: string | null; url: string; published_on: string | null; proof_id: string | null; parsed_at: string | null; links: Links }[];
  attributions: {
    id_avis: string;
    lot_key: string;
    status: string;
    winner: string | null;
    winner_members: string[];
    amount: string | null;
    bidder_count: number | null;
    low_confidence: boolean;
    latest: boolean;
    notice_kind: string;
    links: Links;
  }[];
  bids: { id_avis: string; lot_key: string; bidder: string; amount: string | null; eliminated: boolean; retained: boolean }[];
}
// The charts bring the charting library (recharts, ~450 kB): their own chunk, loaded after the search form and its rows.
const Charts = lazy(() => import('./ProcurementCharts'));

// A consultation's statut as the API derives it (api/pmmp/schemas.ts STATUTS), in the procurement's own words.
const STATUTS: Record<string, { label: string; color: string }> = {
  en_cours: { label: 'en cours', color: 'blue' },
  cloturee: { label: 'clôturée', color: 'gray' },
  attribuee: { label: 'attribuée', color: 'teal' },
  infructueux: { label: 'infructueux', color: 'orange' },
};
// A lot's result as a notice states it (schema/pmmp/tables.ts AWARD_STATUSES).
const AWARD_STATUSES: Record<string, string> = { attribue: 'attribué', infructueux: 'infructueux', offre_excessive: 'offres excessives', annule: 'annulé', inconnu: 'inconnu' };
const KINDS = ['travaux', 'fournitures', 'services'];
const mad = (v: string | null) => formatAmount(v, 'MAD');

function Statut({ statut }: { statut: string }) {
  const s = STATUTS[statut];
  return <StatusBadge code={statut} label={s?.label} color={s?.color ?? 'gray'} />;
}

/** `<mark>` segments of a highlight as Mantine marks (the text itself is never parsed as HTML). */
function Highlighted({ text }: { text: string | null }) {
  if (!text) return <>—</>;
  const parts = text.split(/<mark>|<\/mark>/);
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>{i % 2 === 1 ? <Mark>{p}</Mark> : p}</Fragment>
      ))}
    </>
  );
}

function ProofLinks({ links }: { links: Links }) {
  const proofs = Object.entries(links).filter(([k]) => k.includes('proof'));
  if (!proofs.length) return <Text c="dimmed">not archived</Text>;
  return (
    <Group gap={6}>
      {proofs.map(([k, href]) => (
        <Anchor key={k} href={href} target="_blank" size="sm">
          {k.replace(/_/g, ' ')}
        </Anchor>
      ))}
    </Group>
  );
}

function ConsultationDetail({ org, refc }: { org: string; refc: string }) {
  const q = useQuery({ queryKey: ['consultation', org, refc], queryFn: () => apiGet<Detail>(`/api/v1/consultations/${encodeURIComponent(org)}/${encodeURIComponent(refc)}`) });
  if (q.isPending) return <Loader />;
  if (q.isError) return <Alert color="red">{errorMessage(q.error)}</Alert>;
  const c = q.data;
  return (
    <Stack data-testid="consultation-detail">
      <Title order={4}>{c.object}</Title>
      <Text size="sm">
        {c.buyer} · {c.reference ?? c.ref_consultation} · <Statut statut={c.statut} />
      </Text>
      <SimpleGrid cols={3}>
        <Text size="sm">
          Published: <DateTime iso={c.published_on} day />
        </Text>
        <Text size="sm">
          Deadline: <DateTime iso={c.deadline} />
        </Text>
        <Text size="sm">Estimation: {mad(c.estimation_ttc)}</Text>
        <Text size="sm">Procedure: {c.procedure ?? '—'}</Text>
        <Text size="sm">Kind: {c.market_kind ?? '—'}</Text>
        <Text size="sm">Place: {c.execution_place ?? '—'}</Text>
      </SimpleGrid>
      <Group gap="xs">
        <Text size="sm" fw={500}>
          Proof pages:
        </Text>
        <ProofLinks links={c.links} />
        {c.detail_url && (
          <Anchor href={c.detail_url} target="_blank" size="sm">
            on the portal
          </Anchor>
        )}
      </Group>
      <Title order={5}>Lots ({formatCount(c.lots.length)})</Title>
      <Table withTableBorder data-testid="consultation-lots">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Lot</Table.Th>
            <Table.Th>Object</Table.Th>
            <Table.Th>Estimation</Table.Th>
            <Table.Th>Caution</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {c.lots.map((l) => (
            <Table.Tr key={l.lot_number}>
              <Table.Td>{l.lot_number}</Table.Td>
              <Table.Td>{l.object ?? '—'}</Table.Td>
              <Table.Td>{mad(l.estimation_ttc)}</Table.Td>
              <Table.Td>{mad(l.caution_provisoire)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Title order={5}>Notices ({c.notices.length})</Title>
      <Table withTableBorder data-testid="consultation-notices">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Published</Table.Th>
            <Table.Th>Read</Table.Th>
            <Table.Th>Proof</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {c.notices.map((n) => (
            <Table.Tr key={n.id_avis}>
              <Table.Td>{n.label ?? n.kind}</Table.Td>
              <Table.Td>
                <DateTime iso={n.published_on} day />
              </Table.Td>
              <Table.Td>{n.parsed_at ? <StatusBadge code="read" color="teal" /> : <StatusBadge code="not yet" color="gray" />}</Table.Td>
              <Table.Td>
                <ProofLinks links={n.links} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Title order={5}>Awards ({c.attributions.length})</Title>
      <Table withTableBorder data-testid="consultation-awards">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Lot</Table.Th>
            <Table.Th>Result</Table.Th>
            <Table.Th>Winner</Table.Th>
            <Table.Th>Amount</Table.Th>
            <Table.Th>Bidders</Table.Th>
            <Table.Th>Confidence</Table.Th>
            <Table.Th>Proof</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {c.attributions.map((a) => (
            <Table.Tr key={`${a.id_avis}/${a.lot_key}`} opacity={a.latest ? 1 : 0.6}>
              <Table.Td>{a.lot_key || '—'}</Table.Td>
              <Table.Td>
                {AWARD_STATUSES[a.status] ?? a.status} <Text size="xs" c="dimmed">{a.notice_kind}{a.latest ? '' : ' (superseded)'}</Text>
              </Table.Td>
              <Table.Td>{a.winner ?? '—'}</Table.Td>
              <Table.Td>{mad(a.amount)}</Table.Td>
              <Table.Td>{a.bidder_count ?? '—'}</Table.Td>
              <Table.Td>{a.low_confidence ? <StatusBadge code="low: check the proof" color="orange" /> : <StatusBadge code="read with confidence" color="teal" />}</Table.Td>
              <Table.Td>
                <ProofLinks links={a.links} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** Consultations by French full text and filters, one with its lots, notices, awards and proofs; buyer and winner charts. */
export default function Procurement() {
  const [draft, setDraft] = useState({ q: '', statut: null as string | null, type_marche: null as string | null, organisme: '' });
  const [filters, setFilters] = useState(draft);
  const [cursors, setCursors] = useState<string[]>([]);
  const [open, setOpen] = useState<{ org: string; ref: string } | null>(null);
  const query = { statut: filters.statut, type_marche: filters.type_marche, organisme: filters.organisme, limit: 50 };
  const list = useQuery({
    queryKey: ['consultations', filters, cursors],
    queryFn: () =>
      filters.q.trim()
        ? apiGet<Page>('/api/v1/consultations/search', { ...query, q: filters.q.trim() })
        : apiGet<Page>('/api/v1/consultations', { ...query, cursor: cursors.at(-1) }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCursors([]);
    setFilters(draft);
  };
  return (
    <Stack data-testid="procurement-tab">
      <Title order={3}>Procurement</Title>
      <form onSubmit={submit}>
        <Group align="end">
          <TextInput label="Search (French)" placeholder="travaux, fourniture, « route rurale »…" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.currentTarget.value })} w={320} data-testid="procurement-q" />
          <Select label="Status" data={Object.entries(STATUTS).map(([value, s]) => ({ value, label: s.label }))} value={draft.statut} onChange={(v) => setDraft({ ...draft, statut: v })} clearable w={150} />
          <Select label="Kind" data={KINDS} value={draft.type_marche} onChange={(v) => setDraft({ ...draft, type_marche: v })} clearable w={150} />
          <TextInput label="Buyer" placeholder="acronym or name" value={draft.organisme} onChange={(e) => setDraft({ ...draft, organisme: e.currentTarget.value })} w={200} />
          <Button type="submit" data-testid="procurement-search">
            Search
          </Button>
        </Group>
      </form>
      {list.isError && <Alert color="red">{errorMessage(list.error)}</Alert>}
      <Table striped highlightOnHover withTableBorder data-testid="consultations">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Published</Table.Th>
            <Table.Th>Reference</Table.Th>
            <Table.Th>Object</Table.Th>
            <Table.Th>Buyer</Table.Th>
            <Table.Th style={{ textAlign: 'right' }}>Estimation</Table.Th>
            <Table.Th>Status</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.data?.items.map((c) => (
            <Table.Tr key={`${c.org_acronyme}/${c.ref_consultation}`} onClick={() => setOpen({ org: c.org_acronyme, ref: c.ref_consultation })} style={{ cursor: 'pointer' }}>
              <Table.Td>
                <DateTime iso={c.published_on} day />
              </Table.Td>
              <Table.Td>{c.highlights ? <Highlighted text={c.highlights.reference ?? c.reference} /> : (c.reference ?? c.ref_consultation)}</Table.Td>
              <Table.Td>{c.highlights ? <Highlighted text={c.highlights.object ?? c.object} /> : c.object}</Table.Td>
              <Table.Td>{c.highlights ? <Highlighted text={c.highlights.buyer ?? c.buyer} /> : c.buyer}</Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap', textAlign: 'right' }}>{mad(c.estimation_ttc)}</Table.Td>
              <Table.Td>
                <Statut statut={c.statut} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {list.isPending && <Loader />}
      {list.data && list.data.items.length === 0 && <Text c="dimmed">No consultation matches.</Text>}
      {!filters.q.trim() && (
        <Group>
          <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous
          </Button>
          <Button variant="default" disabled={!list.data?.page.next_cursor} onClick={() => list.data?.page.next_cursor && setCursors([...cursors, list.data.page.next_cursor])}>
            Next
          </Button>
        </Group>
      )}
      <Suspense fallback={<Loader size="sm" />}>
        <Charts />
      </Suspense>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} position="right" size="xl" title="Consultation">
        {open && <ConsultationDetail org={open.org} refc={open.ref} />}
      </Drawer>
    </Stack>
  );
}
