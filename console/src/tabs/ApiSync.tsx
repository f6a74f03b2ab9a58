import { Alert, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ApisyncRateLimitView, ApisyncRecentRun, ApisyncStatus } from '../../../control/apisync-status';
import { apiGet, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { formatCount, formatDateTime, isTimestamp } from '../format';

// The route serves control/apisync-status.ts's objects as they are: the page reads the same types.
type Streams = {
  at: string;
  sources: Pick<ApisyncStatus, 'source' | 'lease' | 'newestRun' | 'streams'>[];
  runs: ApisyncRecentRun[];
  rateLimits: ApisyncRateLimitView[];
};

const STATUS_COLORS: Record<string, string> = { success: 'teal', partial: 'yellow', failure: 'red', failed: 'red', running: 'blue', skipped: 'gray' };
const Status = ({ status }: { status: string | null | undefined }) =>
  status ? <StatusBadge code={status} color={STATUS_COLORS[status] ?? 'gray'} variant="filled" /> : <Text c="dimmed">—</Text>;
/** A watermark is the newest change seen: a timestamp for the change feeds (shown as every moment is), else the source's own cursor. */
const Watermark = ({ value }: { value: string | null }) => (value && isTimestamp(value) ? <DateTime iso={value} /> : <>{value ?? '—'}</>);
const num = { textAlign: 'right', fontVariantNumeric: 'tabular-nums' } as const;

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
            {s.lease && <StatusBadge code={`lease ${s.lease.state}`} variant="outline" />}
            {s.newestRun && (
              <Text size="sm" c="dimmed">
                newest run {s.newestRun.status}, {formatDateTime(s.newestRun.startedAt)}
              </Text>
            )}
          </Group>
          <Table withTableBorder striped data-testid={`apisync-streams-${s.source}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Stream</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Watermark</Table.Th>
                <Table.Th style={num}>Rows</Table.Th>
                <Table.Th>Last full</Table.Th>
                <Table.Th>Last run (loaded / extracted)</Table.Th>
                <Table.Th>In flight</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {s.streams.map((x) => (
                <Table.Tr key={x.stream}>
                  <Table.Td>
                    {x.stream} {!x.declared && <StatusBadge code="no longer declared" color="gray" />}
                  </Table.Td>
                  <Table.Td>
                    {x.synced ? <Status status={x.lastStatus} /> : <StatusBadge code="never synced" color="gray" />}
                    {x.lastError && (
                      <Text size="xs" c="red">
                        {x.lastError}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Watermark value={x.watermark} />
                  </Table.Td>
                  <Table.Td style={num}>{formatCount(x.rowCount)}</Table.Td>
                  <Table.Td>
                    <DateTime iso={x.lastFullAt} />
                  </Table.Td>
                  <Table.Td>
                    {x.lastLog ? (
                      <Group gap={6} wrap="nowrap">
                        <Status status={x.lastLog.status} />
                        <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                          {formatCount(x.lastLog.loaded)} / {formatCount(x.lastLog.extracted)} {x.lastLog.mode ?? ''}, <DateTime iso={x.lastLog.at} />
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
            <Table.Th style={num}>Loaded</Table.Th>
            <Table.Th style={num}>Extracted</Table.Th>
            <Table.Th style={num}>Rejected</Table.Th>
            <Table.Th style={num}>Failed streams</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d?.runs.map((r) => (
            <Table.Tr key={r.runId}>
              <Table.Td>
                <DateTime iso={r.startedAt} />
              </Table.Td>
              <Table.Td>{r.source ?? '—'}</Table.Td>
              <Table.Td>{r.mode}</Table.Td>
              <Table.Td>
                <Status status={r.status} />
              </Table.Td>
              <Table.Td style={num}>{formatCount(r.loaded)}</Table.Td>
              <Table.Td style={num}>{formatCount(r.extracted)}</Table.Td>
              <Table.Td style={num}>{formatCount(r.rejected)}</Table.Td>
              <Table.Td style={num}>{formatCount(r.failedStreams)}</Table.Td>
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
              <Table.Td>{formatCount(b.sentLastMinute)}</Table.Td>
              <Table.Td>{formatCount(b.sentLastHour)}</Table.Td>
              <Table.Td>{formatCount(b.lastRemaining)}</Table.Td>
              <Table.Td>
                {formatCount(b.throttles)}× {b.throttledUntil && Date.parse(b.throttledUntil) > Date.now() && <StatusBadge code={`until ${formatDateTime(b.throttledUntil)}`} color="red" />}
              </Table.Td>
              <Table.Td>
                <DateTime iso={b.nextSlot} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
