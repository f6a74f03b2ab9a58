import { Alert, Anchor, Button, Card, Drawer, Group, Loader, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { apiGet, errorMessage, withQuery } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { formatCount } from '../format';
import { filtersOf, useCursorList } from '../hooks';

interface Contact {
  id: number;
  jobId: string;
  email: string | null;
  name: string | null;
  company: string | null;
  phones: string[];
  website: string | null;
  domain: string | null;
  sourceUrl: string;
  validation: string;
  reason: string | null;
  createdAt: string;
  category: string | null;
  listUid: string | null;
  syncStatus: string | null;
}

interface ContactDetail extends Contact {
  socials: Record<string, string>;
  address: string | null;
  job: { id: string; name: string; sourceType: string; workflowId: string };
  validated: null | {
    email: string;
    category: string;
    categoryScores: Record<string, number>;
    platform: string;
    listUid: string;
    template: string;
    tags: string[];
    mxHosts: string[];
    validatedAt: string;
    syncStatus: string;
    syncAttempts: number;
    subscriberUid: string | null;
    syncedAt: string | null;
    lastSyncError: string | null;
  };
  proof: null | { proofId: string; url: string; fetchedAt: string; href: string };
  syncLog: { attempt: number; outcome: string; httpStatus: number | null; error: string | null; at: string }[];
}

interface Count {
  value: string;
  count: number;
}
interface Stats {
  scraped: number;
  validated: number;
  sent: number;
  byValidation: Record<string, number>;
  bySync: Record<string, number>;
  categories: Count[];
  lists: Count[];
}

const VALIDATION_COLOR: Record<string, string> = { valid: 'green', invalid: 'red', duplicate: 'gray', no_email: 'gray', new: 'blue', validating: 'cyan' };
const VALIDATION_LABEL: Record<string, string> = { no_email: 'no email' };
const Validation = ({ code }: { code: string }) => <StatusBadge code={code} label={VALIDATION_LABEL[code]} color={VALIDATION_COLOR[code] ?? 'gray'} variant="filled" />;

// The Found column fits a whole date and time (format.ts); the text columns share what is left, the full value on hover.
const columns: Column<Contact>[] = [
  { key: 'email', header: 'Email', width: '24%', render: (c) => c.email ?? <Text c="dimmed">—</Text> },
  { key: 'domain', header: 'Domain', width: '16%', render: (c) => c.domain },
  { key: 'company', header: 'Name / company', render: (c) => c.company ?? c.name ?? <Text c="dimmed">—</Text> },
  { key: 'validation', header: 'Validation', width: 104, render: (c) => <Validation code={c.validation} /> },
  { key: 'category', header: 'Category', width: 104, render: (c) => c.category },
  { key: 'list', header: 'List', width: 130, render: (c) => c.listUid },
  { key: 'sync', header: 'MailWizz', width: 86, render: (c) => c.syncStatus },
  { key: 'created', header: 'Found', width: 180, render: (c) => <DateTime iso={c.createdAt} /> },
];

export default function Contacts() {
  const [q, setQ] = useState('');
  const [domain, setDomain] = useState('');
  const [category, setCategory] = useState<string | null>(null);
  const [validation, setValidation] = useState<string | null>(null);
  const [list, setList] = useState<string | null>(null);
  const [stage, setStage] = useState<string | null>(null);
  const [debouncedQ] = useDebouncedValue(q, 300);
  const [debouncedDomain] = useDebouncedValue(domain, 300);
  const [selected, setSelected] = useState<number | null>(null);
  const stats = useQuery({ queryKey: ['contact-stats'], queryFn: () => apiGet<Stats>('/api/v1/leads/contacts/stats'), refetchInterval: 10_000 });
  const filters = filtersOf({ q: debouncedQ, domain: debouncedDomain, category, validation, list, stage });
  const rows = useCursorList<Contact>('/api/v1/leads/contacts', filters);

  return (
    <Stack>
      <Title order={3}>Contacts</Title>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <StageCard label="Scraped" value={stats.data?.scraped} detail={stats.data?.byValidation} testId="count-scraped" />
        <StageCard label="Validated" value={stats.data?.validated} detail={stats.data?.bySync} testId="count-validated" />
        <StageCard label="Sent to MailWizz" value={stats.data?.sent} testId="count-sent" />
      </SimpleGrid>
      <Group align="flex-end">
        <TextInput label="Search" placeholder="email, name, company, domain" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={240} />
        <TextInput label="Domain" placeholder="example.fr" value={domain} onChange={(e) => setDomain(e.currentTarget.value)} w={180} />
        <Select label="Category" data={(stats.data?.categories ?? []).map((c) => ({ value: c.value, label: `${c.value} (${c.count})` }))} value={category} onChange={setCategory} clearable w={170} />
        <Select label="Validation" data={['new', 'validating', 'valid', 'invalid', 'duplicate', 'no_email']} value={validation} onChange={setValidation} clearable w={140} />
        <Select label="MailWizz list" data={(stats.data?.lists ?? []).map((c) => ({ value: c.value, label: `${c.value} (${c.count})` }))} value={list} onChange={setList} clearable w={190} />
        <Select label="Stage" data={['scraped', 'validated', 'sent']} value={stage} onChange={setStage} clearable w={120} />
        <Button component="a" variant="light" href={withQuery('/api/v1/leads/contacts/export/csv', filters)} download>
          Export CSV
        </Button>
      </Group>
      {rows.isError && <Alert color="red">{errorMessage(rows.error)}</Alert>}
      <VirtualTable
        rows={rows.rows}
        columns={columns}
        rowKey={(c) => c.id}
        onRowClick={(c) => setSelected(c.id)}
        onEndReached={rows.more}
        loadingMore={rows.isFetching}
        testId="contacts-table"
      />
      <Drawer opened={selected !== null} onClose={() => setSelected(null)} position="right" size="lg" title="Contact">
        {selected !== null && <ContactPanel id={selected} />}
      </Drawer>
    </Stack>
  );
}

function StageCard({ label, value, detail, testId }: { label: string; value?: number; detail?: Record<string, number>; testId: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value === undefined ? '…' : formatCount(value)}
      </Text>
      <Group gap={4}>
        {Object.entries(detail ?? {}).map(([k, n]) => (
          <StatusBadge key={k} code={k} label={`${VALIDATION_LABEL[k] ?? k} ${formatCount(n)}`} size="sm" />
        ))}
      </Group>
    </Card>
  );
}

function ContactPanel({ id }: { id: number }) {
  const d = useQuery({ queryKey: ['contact', id], queryFn: () => apiGet<ContactDetail>(`/api/v1/leads/contacts/${id}`) });
  if (d.isPending) return <Loader />;
  if (d.isError) return <Alert color="red">{errorMessage(d.error)}</Alert>;
  const c = d.data;
  const rows: [string, ReactNode][] = [
    ['Email', c.email],
    ['Name', c.name],
    ['Company', c.company],
    ['Phones', c.phones.join(', ')],
    ['Website', c.website && <Anchor href={c.website} target="_blank" rel="noreferrer">{c.website}</Anchor>],
    ['Address', c.address],
    ['Socials', Object.entries(c.socials).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['Domain', c.domain],
    [
      'Found on',
      <Anchor key="src" href={c.sourceUrl} target="_blank" rel="noreferrer">
        {c.sourceUrl}
      </Anchor>,
    ],
    [
      'Proof',
      c.proof ? (
        <Anchor href={c.proof.href} target="_blank" rel="noreferrer" data-testid="proof-link">
          archived page of <DateTime iso={c.proof.fetchedAt} />
        </Anchor>
      ) : (
        <Text c="dimmed" size="sm">
          no archived copy of this page
        </Text>
      ),
    ],
    ['Job', `${c.job.name} (${c.job.sourceType}, ${c.job.id})`],
    [
      'Validation',
      <Group key="validation" gap={6}>
        <Validation code={c.validation} />
        {c.reason}
      </Group>,
    ],
  ];
  if (c.validated) {
    rows.push(
      ['Category', `${c.validated.category} ${JSON.stringify(c.validated.categoryScores)}`],
      ['Routing', `${c.validated.platform} · list ${c.validated.listUid} · template ${c.validated.template} · tags ${c.validated.tags.join(', ')}`],
      ['MX', c.validated.mxHosts.join(', ')],
      ['MailWizz', `${c.validated.syncStatus} after ${c.validated.syncAttempts} tries${c.validated.subscriberUid ? ` (subscriber ${c.validated.subscriberUid})` : ''}${c.validated.lastSyncError ? `: ${c.validated.lastSyncError}` : ''}`],
    );
  }
  return (
    <Stack data-testid="contact-detail">
      <Table>
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={120}>{k}</Table.Th>
              <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {c.syncLog.length > 0 && (
        <>
          <Title order={5}>MailWizz tries</Title>
          <Table>
            <Table.Tbody>
              {c.syncLog.map((l) => (
                <Table.Tr key={`${l.attempt}-${l.at}`}>
                  <Table.Td>{l.attempt}</Table.Td>
                  <Table.Td>{l.outcome}</Table.Td>
                  <Table.Td>{l.httpStatus}</Table.Td>
                  <Table.Td>{l.error}</Table.Td>
                  <Table.Td>
                    <DateTime iso={l.at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Stack>
  );
}
