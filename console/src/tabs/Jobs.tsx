import {
  Alert,
  Anchor,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { LeadsJobView } from '../../../control/leads-jobs';
import { apiGet, apiWrite, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { temporalRunUrl, useConsoleConfig } from '../config';
import { formatCount } from '../format';

// The API's own view of a job (erased at build: a type, not code from the server).
export type Job = LeadsJobView & { live?: boolean };

type SourceType = Job['sourceType'];
const ACTIVE = new Set(['queued', 'running', 'paused']);
const STATUS_COLOR: Record<string, string> = { queued: 'gray', running: 'blue', paused: 'yellow', completed: 'green', cancelled: 'orange', failed: 'red' };

export default function Jobs() {
  const queryClient = useQueryClient();
  const config = useConsoleConfig();
  const [status, setStatus] = useState<string | null>(null);
  const [sourceType, setSourceType] = useState<string | null>(null);
  const [creating, { open, close }] = useDisclosure(false);
  const list = useQuery({
    queryKey: ['jobs', status, sourceType],
    queryFn: () => apiGet<{ jobs: Job[]; total: number }>('/api/v1/scraping/jobs', { limit: 100, status, sourceType }),
    refetchInterval: 3_000,
  });
  // The list holds the rows' last committed figures; a running job's live ones come from its workflow's query.
  const active = (list.data?.jobs ?? []).filter((j) => ACTIVE.has(j.status));
  const live = useQueries({
    queries: active.map((j) => ({ queryKey: ['job', j.id], queryFn: () => apiGet<Job>(`/api/v1/scraping/jobs/${encodeURIComponent(j.id)}`), refetchInterval: 2_000 })),
  });
  const liveById = new Map(live.flatMap((q) => (q.data ? [[q.data.id, q.data] as const] : [])));
  const action = useMutation({
    mutationFn: ({ id, verb }: { id: string; verb: 'pause' | 'resume' | 'cancel' }) => apiWrite<Job>('POST', `/api/v1/scraping/jobs/${encodeURIComponent(id)}/${verb}`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['job'] }).then(() => queryClient.invalidateQueries({ queryKey: ['jobs'] })),
  });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Scraping jobs</Title>
        <Group>
          <Select placeholder="any status" data={['queued', 'running', 'paused', 'completed', 'cancelled', 'failed']} value={status} onChange={setStatus} clearable w={150} aria-label="status filter" />
          <Select placeholder="any source" data={['search', 'maps', 'custom_urls', 'blog']} value={sourceType} onChange={setSourceType} clearable w={150} aria-label="source filter" />
          <Button onClick={open}>New job</Button>
        </Group>
      </Group>
      {list.isError && <Alert color="red">{errorMessage(list.error)}</Alert>}
      {action.isError && (
        <Alert color="red" withCloseButton onClose={() => action.reset()}>
          {errorMessage(action.error)}
        </Alert>
      )}
      <Text size="sm" c="dimmed">
        {list.data ? `${formatCount(list.data.total)} job${list.data.total === 1 ? '' : 's'}` : 'loading…'}; running jobs show their workflow's live progress.
      </Text>
      <Table striped highlightOnHover data-testid="jobs-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th w={220}>Pages</Table.Th>
            <Table.Th>Contacts</Table.Th>
            <Table.Th>Errors</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.data?.jobs.map((row) => {
            const j = liveById.get(row.id) ?? row;
            // pagesQueued is what is still to visit: done / (done + queued) is how far the job is.
            const pct = j.pagesDone + j.pagesQueued > 0 ? (100 * j.pagesDone) / (j.pagesDone + j.pagesQueued) : j.status === 'completed' ? 100 : 0;
            return (
              <Table.Tr key={j.id} data-job-id={j.id} data-status={j.status}>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {j.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {j.id}
                  </Text>
                </Table.Td>
                <Table.Td>{j.sourceType}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <StatusBadge code={j.status} color={STATUS_COLOR[j.status] ?? 'gray'} variant="filled" data-testid="job-status" />
                    {j.live && (
                      <Badge variant="dot" color="teal" size="xs">
                        live
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Progress value={pct} animated={j.status === 'running'} />
                  <Text size="xs" c="dimmed">
                    {formatCount(j.pagesDone)} done · {formatCount(j.pagesQueued)} queued
                  </Text>
                </Table.Td>
                <Table.Td>{formatCount(j.contactsFound)}</Table.Td>
                <Table.Td title={j.lastError ?? undefined}>{formatCount(j.errors)}</Table.Td>
                <Table.Td>
                  <DateTime iso={j.createdAt} />
                </Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    {(j.status === 'running' || j.status === 'queued') && (
                      <Button size="compact-xs" variant="light" color="yellow" onClick={() => action.mutate({ id: j.id, verb: 'pause' })}>
                        Pause
                      </Button>
                    )}
                    {j.status === 'paused' && (
                      <Button size="compact-xs" variant="light" onClick={() => action.mutate({ id: j.id, verb: 'resume' })}>
                        Resume
                      </Button>
                    )}
                    {ACTIVE.has(j.status) && (
                      <Button size="compact-xs" variant="light" color="red" onClick={() => action.mutate({ id: j.id, verb: 'cancel' })}>
                        Cancel
                      </Button>
                    )}
                    {config && (
                      <Anchor size="xs" href={temporalRunUrl(config, j.workflowId)} target="_blank" rel="noreferrer">
                        Temporal
                      </Anchor>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Modal opened={creating} onClose={close} title="New scraping job" size="lg">
        <CreateJob
          onCreated={() => {
            close();
            void queryClient.invalidateQueries({ queryKey: ['jobs'] });
          }}
        />
      </Modal>
    </Stack>
  );
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Every source type and option of control/leads-jobs.ts (schema/leads/items.ts), with the same defaults. */
function CreateJob({ onCreated }: { onCreated: (job: Job) => void }) {
  const [type, setType] = useState<SourceType>('custom_urls');
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [queries, setQueries] = useState('');
  const [urls, setUrls] = useState('');
  const [pagesPerQuery, setPagesPerQuery] = useState<number | string>(2);
  const [followDepth, setFollowDepth] = useState<number | string>(1);
  const [maxResults, setMaxResults] = useState<number | string>(40);
  const [visitWebsites, setVisitWebsites] = useState(true);
  const [maxDepth, setMaxDepth] = useState<number | string>(1);
  const [maxArticles, setMaxArticles] = useState<number | string>(100);
  const [maxIndexPages, setMaxIndexPages] = useState<number | string>(20);
  const [maxPages, setMaxPages] = useState<number | string>(500);
  const [refetch, setRefetch] = useState(false);
  const [whois, setWhois] = useState(false);

  const configOf = (): Record<string, unknown> => {
    const common = { maxPages: Number(maxPages), refetch, whois };
    switch (type) {
      case 'search':
        return { queries: lines(queries), pagesPerQuery: Number(pagesPerQuery), followDepth: Number(followDepth), ...common };
      case 'maps':
        return { queries: lines(queries), maxResults: Number(maxResults), visitWebsites, followDepth: Number(followDepth), ...common };
      case 'custom_urls':
        return { urls: lines(urls), maxDepth: Number(maxDepth), ...common };
      case 'blog':
        return { urls: lines(urls), maxArticles: Number(maxArticles), maxIndexPages: Number(maxIndexPages), ...common };
    }
  };
  const create = useMutation({
    mutationFn: () =>
      apiWrite<Job>('POST', '/api/v1/scraping/jobs', {
        sourceType: type,
        config: configOf(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(id.trim() ? { id: id.trim() } : {}),
      }),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <SegmentedControl
          value={type}
          onChange={(v) => setType(v as SourceType)}
          data={[
            { value: 'search', label: 'Search engine' },
            { value: 'maps', label: 'Maps' },
            { value: 'custom_urls', label: 'Custom URLs' },
            { value: 'blog', label: 'Blog' },
          ]}
          aria-label="source type"
        />
        <SimpleGrid cols={2}>
          <TextInput label="Name" placeholder="optional" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <TextInput label="Id" description="optional: makes the creation idempotent" value={id} onChange={(e) => setId(e.currentTarget.value)} />
        </SimpleGrid>
        {(type === 'search' || type === 'maps') && (
          <Textarea label="Queries" description="one per line" autosize minRows={3} value={queries} onChange={(e) => setQueries(e.currentTarget.value)} required />
        )}
        {(type === 'custom_urls' || type === 'blog') && (
          <Textarea
            label={type === 'blog' ? 'Blog index pages or article URLs' : 'URLs'}
            description="one per line"
            autosize
            minRows={3}
            value={urls}
            onChange={(e) => setUrls(e.currentTarget.value)}
            required
          />
        )}
        <SimpleGrid cols={3}>
          {type === 'search' && <NumberInput label="Result pages per query" min={1} max={20} value={pagesPerQuery} onChange={setPagesPerQuery} />}
          {type === 'maps' && <NumberInput label="Max results" min={1} max={500} value={maxResults} onChange={setMaxResults} />}
          {(type === 'search' || type === 'maps') && <NumberInput label="Follow depth" description="0: the page only" min={0} max={2} value={followDepth} onChange={setFollowDepth} />}
          {type === 'custom_urls' && <NumberInput label="Max depth" description="same-site links" min={0} max={5} value={maxDepth} onChange={setMaxDepth} />}
          {type === 'blog' && <NumberInput label="Max articles" min={1} max={10000} value={maxArticles} onChange={setMaxArticles} />}
          {type === 'blog' && <NumberInput label="Max index pages" min={1} max={500} value={maxIndexPages} onChange={setMaxIndexPages} />}
          <NumberInput label="Max pages" min={1} max={100000} value={maxPages} onChange={setMaxPages} />
        </SimpleGrid>
        <Group>
          {type === 'maps' && <Checkbox label="Visit websites" checked={visitWebsites} onChange={(e) => setVisitWebsites(e.currentTarget.checked)} />}
          <Checkbox label="Refetch pages already scraped" checked={refetch} onChange={(e) => setRefetch(e.currentTarget.checked)} />
          <Checkbox label="WHOIS lookups" checked={whois} onChange={(e) => setWhois(e.currentTarget.checked)} />
        </Group>
        {create.isError && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Create and start
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
