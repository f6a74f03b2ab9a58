import { Alert, Badge, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { apiGet, errorMessage } from '../api';

export interface Job {
  id: string;
  name: string;
  sourceType: string;
  config: Record<string, unknown>;
  status: string;
  workflowId: string;
  pagesDone: number;
  pagesQueued: number;
  contactsFound: number;
  errors: number;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  live?: boolean;
}

export default function Jobs() {
  const jobs = useQuery({ queryKey: ['jobs'], queryFn: () => apiGet<{ jobs: Job[]; total: number }>('/api/v1/scraping/jobs', { limit: 50 }), refetchInterval: 2_000 });
  return (
    <Stack>
      <Title order={3}>Scraping jobs</Title>
      {jobs.isError && <Alert color="red">{errorMessage(jobs.error)}</Alert>}
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Pages</Table.Th>
            <Table.Th>Contacts</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.data?.jobs.map((j) => (
            <Table.Tr key={j.id}>
              <Table.Td>{j.name}</Table.Td>
              <Table.Td>{j.sourceType}</Table.Td>
              <Table.Td>
                <Badge>{j.status}</Badge>
              </Table.Td>
              <Table.Td>
                <Progress value={j.pagesQueued ? (100 * j.pagesDone) / j.pagesQueued : 0} />
                <Text size="xs">
                  {j.pagesDone} / {j.pagesQueued}
                </Text>
              </Table.Td>
              <Table.Td>{j.contactsFound}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
