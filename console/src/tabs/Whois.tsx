import { Alert, Button, Card, Group, Loader, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { WhoisRecord as RdapRecord } from '../../../activities/leads/whois';
import { apiGet, apiWrite, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { formatCount } from '../format';

/** What POST /leads/whois/lookup answers: the workflow's record and the run that read it. */
type WhoisRecord = RdapRecord & { workflow_id: string };
interface WhoisHistory {
  total: number;
  found: number;
  not_found: number;
  expired: number;
  last_24h: number;
  latest: { domain: string; found: boolean; registrar: string | null; registered_at: string | null; expires_on: string | null; fetched_at: string }[];
}


function Record({ r }: { r: WhoisRecord }) {
  return (
    <Card withBorder data-testid="whois-record">
      <Group>
        <Title order={4}>{r.domain}</Title>
        {r.found ? <StatusBadge code="registered" color="teal" /> : <StatusBadge code="not registered" color="gray" />}
        {r.cached && <StatusBadge code="from the cache" variant="outline" />}
      </Group>
      {r.found && (
        <Table mt="sm" withRowBorders={false}>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={160}>Registrar</Table.Th>
              <Table.Td data-testid="whois-registrar">{r.registrar ?? '—'}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Registered</Table.Th>
              <Table.Td>
                <DateTime iso={r.registeredAt} day />
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Expires</Table.Th>
              <Table.Td>
                <DateTime iso={r.expiresOn} day />
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Name servers</Table.Th>
              <Table.Td>{r.nameservers.join(', ') || '—'}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Status</Table.Th>
              <Table.Td>{r.status.join(', ') || '—'}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      )}
      <Text size="xs" c="dimmed" mt="xs">
        run {r.workflow_id}
      </Text>
    </Card>
  );
}

/** A domain's RDAP record looked up on demand (workflow leadsWhois, cached), and the lookups made so far. */
export default function Whois() {
  const client = useQueryClient();
  const [domain, setDomain] = useState('');
  const history = useQuery({ queryKey: ['leads-whois', 'history'], queryFn: () => apiGet<WhoisHistory>('/api/v1/leads/whois', { limit: 200 }) });
  const lookup = useMutation({
    mutationFn: (d: string) => apiWrite<WhoisRecord>('POST', '/api/v1/leads/whois/lookup', { domain: d }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['leads-whois'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (domain.trim()) lookup.mutate(domain.trim().toLowerCase());
  };
  return (
    <Stack data-testid="whois-tab">
      <Title order={3}>WHOIS lookup</Title>
      <form onSubmit={submit}>
        <Group align="end">
          <TextInput label="Domain" placeholder="example.fr" value={domain} onChange={(e) => setDomain(e.currentTarget.value)} w={320} data-testid="whois-domain" />
          <Button type="submit" loading={lookup.isPending} disabled={!domain.trim()} data-testid="whois-lookup">
            Look up
          </Button>
        </Group>
      </form>
      {lookup.isError && <Alert color="red">{errorMessage(lookup.error)}</Alert>}
      {lookup.data && <Record r={lookup.data} />}
      <Title order={4}>History</Title>
      {history.isError && <Alert color="red">{errorMessage(history.error)}</Alert>}
      {history.isPending && <Loader />}
      {history.data && (
        <SimpleGrid cols={4} data-testid="whois-history-figures">
          <Text>{formatCount(history.data.total)} cached</Text>
          <Text>{formatCount(history.data.found)} registered</Text>
          <Text>{formatCount(history.data.not_found)} not registered</Text>
          <Text>{formatCount(history.data.last_24h)} in the last 24 h</Text>
        </SimpleGrid>
      )}
      <Table striped highlightOnHover withTableBorder data-testid="whois-history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Domain</Table.Th>
            <Table.Th>Registrar</Table.Th>
            <Table.Th>Registered</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>Looked up</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {history.data?.latest.map((w) => (
            <Table.Tr key={w.domain} onClick={() => setDomain(w.domain)} style={{ cursor: 'pointer' }}>
              <Table.Td>{w.domain}</Table.Td>
              <Table.Td>{w.found ? (w.registrar ?? '—') : <StatusBadge code="not registered" color="gray" />}</Table.Td>
              <Table.Td>
                <DateTime iso={w.registered_at} day />
              </Table.Td>
              <Table.Td>
                <DateTime iso={w.expires_on} day />
              </Table.Td>
              <Table.Td>
                <DateTime iso={w.fetched_at} />
              </Table.Td>
            </Table.Tr>
          ))}
          {history.data?.latest.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={5}>
                <Text c="dimmed" ta="center" size="sm">
                  No domain looked up yet.
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
