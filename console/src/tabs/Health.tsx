import { Alert, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { apiGet, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { formatDateTime } from '../format';

interface State {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}
interface Poller {
  identity: string;
  last_access_at: string | null;
  rate_per_second: number;
}
interface Dependencies {
  status: 'ok' | 'degraded';
  checked_at: string;
  dependencies: (State & { name: string })[];
  task_queues: (State & { name: string; role: string; workflow_pollers: Poller[]; activity_pollers: Poller[] })[];
  schedules: State & {
    items: { schedule_id: string; workflow_type: string | null; description: string | null; declared: boolean; on_server: boolean; paused: boolean; next_runs: string[]; last_run_at: string | null }[];
  };
}

const LABELS: Record<string, string> = { postgresql: 'PostgreSQL', mongodb: 'MongoDB (FerretDB)', temporal: 'Temporal' };
function StateBadge({ state }: { state: State }) {
  return <StatusBadge code={state.status} color={state.status === 'up' ? 'teal' : 'red'} />;
}

/** Each dependency's state and latency, who polls the task queues, the Schedules and their next runs. */
export default function Health() {
  const q = useQuery({ queryKey: ['health-dependencies'], queryFn: () => apiGet<Dependencies>('/api/v1/health/dependencies'), refetchInterval: 10_000 });
  if (q.isError) return <Alert color="red">{errorMessage(q.error)}</Alert>;
  const d = q.data;
  return (
    <Stack data-testid="health-tab">
      <Group>
        <Title order={3}>Health</Title>
        {d && (
          <StatusBadge code={d.status} label={d.status === 'ok' ? 'all up' : 'degraded'} size="lg" variant="filled" color={d.status === 'ok' ? 'teal' : 'orange'} data-testid="health-status" />
        )}
        {d && (
          <Text c="dimmed" size="sm">
            checked <DateTime iso={d.checked_at} />
          </Text>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        {d?.dependencies.map((dep) => (
          <Card withBorder key={dep.name} data-testid={`dependency-${dep.name}`}>
            <Group justify="space-between">
              <Text fw={600}>{LABELS[dep.name] ?? dep.name}</Text>
              <StateBadge state={dep} />
            </Group>
            <Text size="sm" c="dimmed">
              {dep.latency_ms} ms
            </Text>
            {dep.error && (
              <Text size="sm" c="red">
                {dep.error}
              </Text>
            )}
          </Card>
        ))}
      </SimpleGrid>
      <Title order={4}>Task queues</Title>
      <Table withTableBorder data-testid="task-queues">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Queue</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Workflow pollers</Table.Th>
            <Table.Th>Activity pollers</Table.Th>
            <Table.Th>Last poll</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d?.task_queues.map((t) => {
            const pollers = [...t.workflow_pollers, ...t.activity_pollers];
            const last = pollers.map((p) => p.last_access_at).filter((x): x is string => x !== null).sort().at(-1);
            return (
              <Table.Tr key={t.name}>
                <Table.Td>{t.name}</Table.Td>
                <Table.Td>{t.role}</Table.Td>
                <Table.Td>
                  <StateBadge state={t} />
                  {t.error && <Text size="xs" c="red">{t.error}</Text>}
                  {t.status === 'up' && pollers.length === 0 && <Text size="xs" c="orange">no worker polls this queue</Text>}
                </Table.Td>
                <Table.Td>{t.workflow_pollers.length}</Table.Td>
                <Table.Td>{t.activity_pollers.length}</Table.Td>
                <Table.Td>
                  <DateTime iso={last} />
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Group>
        <Title order={4}>Schedules</Title>
        {d && <StateBadge state={d.schedules} />}
      </Group>
      {d?.schedules.error && <Alert color="red">{d.schedules.error}</Alert>}
      <Table withTableBorder striped data-testid="schedules">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Schedule</Table.Th>
            <Table.Th>Runs</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Next runs</Table.Th>
            <Table.Th>Last run</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d?.schedules.items.map((s) => (
            <Table.Tr key={s.schedule_id}>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {s.schedule_id}
                </Text>
                {s.description && (
                  <Text size="xs" c="dimmed">
                    {s.description}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{s.workflow_type ?? '—'}</Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  {!s.on_server ? <StatusBadge code="not applied" color="red" /> : s.paused ? <StatusBadge code="paused" color="gray" /> : <StatusBadge code="active" color="teal" variant="filled" />}
                  {!s.declared && <StatusBadge code="not declared" color="gray" variant="outline" />}
                </Group>
              </Table.Td>
              <Table.Td>
                {s.next_runs.length ? (
                  <Stack gap={0}>
                    {s.next_runs.map((n) => (
                      <Text key={n} size="sm" title={n} style={{ whiteSpace: 'nowrap' }}>
                        {formatDateTime(n)}
                      </Text>
                    ))}
                  </Stack>
                ) : (
                  '—'
                )}
              </Table.Td>
              <Table.Td>
                <DateTime iso={s.last_run_at} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
