import { Alert, Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ApisyncRateLimitView, ApisyncRecentRun, ApisyncStatus } from '../../../control/apisync-status';
import { apiGet, errorMessage } from '../api';

// The route serves control/apisync-status.ts's objects as they are: the page reads the same types.
type Streams = {
  at: string;
  sources: Pick<ApisyncStatus, 'source' | 'lease' | 'newestRun' | 'streams'>[];
  runs: ApisyncRecentRun[];
  rateLimits: ApisyncRateLimitView[];
};

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
const STATUS_COLORS: Record<string, string> = { success: 'teal', partial: 'yellow', failure: 'red', failed: 'red', running: 'blue', skipped: 'gray' };
const Status = ({ status }: { status: string | null | undefined }) => (status ? <Badge color={STATUS_COLORS[status] ?? 'gray'}>{status}</Badge> : <Text c="dimmed">—</Text>);

/** Per source and stream: state, watermark, in-flight cursor and last log; the newest runs; the request budgets' use. */
export default function ApiSync() {
  const q = useQuery({ queryKey: ['apisync-streams'], queryFn: () => apiGet<Streams>('/api/v1/apisync/streams', { runs: 20 }), refetchInterval: 10_000 });
  if (q.isError) return <Alert color="red">{errorMessage(q.error)}</Alert>;
  const d = q.data;
  return (
    <Stack data-testid="apisync-tab">
      <Title order={3}>API sync</Title>
      {d?.sources.map((s) => (
        <Stack key={s.source} gap="xs">
          <Group>
            <Title order={4}>{s.source}</Title>
            {s.lease && <Badge variant="outline">lease {s.lease.state}</Badge>}
            {s.newestRun && (
              <Text size="sm" c="dimmed">
                newest run {s.newestRun.status}, {when(s.newestRun.startedAt)}
              </Text>
            )}
          </Group>
          <Table withTableBorder striped data-testid={`apisync-streams-${s.source}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Stream</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Watermark</Table.Th>
                <Table.Th>Rows</Table.Th>
                <Table.Th>Last full</Table.Th>
                <Table.Th>Last run (loaded / extracted)</Table.Th>
                <Table.Th>In flight</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {s.streams.map((x) => (
                <Table.Tr key={x.stream}>
                  <Table.Td>
                    {x.stream} {!x.declared && <Badge color="gray">no longer declared</Badge>}
                  </Table.Td>
                  <Table.Td>
                    {x.synced ? <Status status={x.lastStatus} /> : <Badge color="gray">never synced</Badge>}
                    {x.lastError && (
                      <Text size="xs" c="red">
                        {x.lastError}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{x.watermark ?? '—'}</Table.Td>
                  <Table.Td>{x.rowCount ?? '—'}</Table.Td>
                  <Table.Td>{when(x.lastFullAt)}</Table.Td>
                  <Table.Td>
                    {x.lastLog ? (
                      <Group gap={4}>
                        <Status status={x.lastLog.status} />
                        <Text size="sm">
                          {x.lastLog.loaded} / {x.lastLog.extracted} {x.lastLog.mode ?? ''} {when(x.lastLog.at)}
                        </Text>
                      </Group>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>{x.pending ? `${x.pending.mode} at ${x.pending.position ?? 'start'}${x.pending.runRunning ? '' : ' (run ended)'}` : '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      ))}
      <Title order={4}>Last runs</Title>
      <Table withTableBorder striped data-testid="apisync-runs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Started</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Mode</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Loaded</Table.Th>
            <Table.Th>Extracted</Table.Th>
            <Table.Th>Rejected</Table.Th>
            <Table.Th>Failed streams</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d?.runs.map((r) => (
            <Table.Tr key={r.runId}>
              <Table.Td>{when(r.startedAt)}</Table.Td>
              <Table.Td>{r.source ?? '—'}</Table.Td>
              <Table.Td>{r.mode}</Table.Td>
              <Table.Td>
                <Status status={r.status} />
              </Table.Td>
              <Table.Td>{r.loaded}</Table.Td>
              <Table.Td>{r.extracted}</Table.Td>
              <Table.Td>{r.rejected}</Table.Td>
              <Table.Td>{r.failedStreams}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Title order={4}>Rate limits</Title>
      <Table withTableBorder data-testid="apisync-rate-limits">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>API</Table.Th>
            <Table.Th>Sent, last minute</Table.Th>
            <Table.Th>Sent, last hour</Table.Th>
            <Table.Th>Remaining (source)</Table.Th>
            <Table.Th>Throttled</Table.Th>
            <Table.Th>Next slot</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d?.rateLimits.map((b) => (
            <Table.Tr key={b.bucket}>
              <Table.Td>{b.host}</Table.Td>
              <Table.Td>{b.sentLastMinute}</Table.Td>
              <Table.Td>{b.sentLastHour}</Table.Td>
              <Table.Td>{b.lastRemaining ?? '—'}</Table.Td>
              <Table.Td>
                {b.throttles}× {b.throttledUntil && Date.parse(b.throttledUntil) > Date.now() && <Badge color="red">until {when(b.throttledUntil)}</Badge>}
              </Table.Td>
              <Table.Td>{when(b.nextSlot)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
