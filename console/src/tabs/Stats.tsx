import { BarChart, LineChart } from '@mantine/charts';
import { Alert, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiGet, errorMessage } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { formatCompact, formatCount, formatDay, formatPercent } from '../format';

interface Volumes {
  from: string;
  to: string;
  days: {
    day: string;
    consultations: number;
    contacts_scraped: number;
    contacts_validated: number;
    mailwizz: Record<'created' | 'existing' | 'duplicate' | 'failed' | 'rejected', number>;
    price_rows: number;
    apisync_rows: number;
    suggestions_applied: number;
  }[];
}
interface Blacklist {
  domains: number;
  manual: number;
  sent: number;
  bounced: number;
  items: { domain: string; sent: number; bounced: number; bounce_rate: number | null; manual_reason: string | null; updated_at: string }[];
}
interface Whois {
  total: number;
  found: number;
  not_found: number;
  expired: number;
  last_24h: number;
  registrars: { registrar: string; domains: number }[];
  latest: { domain: string; found: boolean; registrar: string | null; registered_at: string | null; expires_on: string | null; fetched_at: string }[];
}

const PIPELINES = [
  { name: 'consultations', label: 'Consultations', color: 'teal.6' },
  { name: 'contacts_scraped', label: 'Contacts scraped', color: 'blue.6' },
  { name: 'contacts_validated', label: 'Contacts validated', color: 'indigo.6' },
  { name: 'price_rows', label: 'Price rows', color: 'yellow.6' },
  { name: 'apisync_rows', label: 'API sync rows', color: 'grape.6' },
  { name: 'suggestions_applied', label: 'Suggestions applied', color: 'orange.6' },
];
const OUTCOMES = [
  { name: 'created', color: 'teal.6' },
  { name: 'existing', color: 'blue.5' },
  { name: 'duplicate', color: 'gray.5' },
  { name: 'rejected', color: 'orange.6' },
  { name: 'failed', color: 'red.6' },
];

function Figure({ label, value }: { label: string; value: number | string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {typeof value === 'number' ? formatCount(value) : value}
      </Text>
    </Card>
  );
}

/** 30-day volumes per pipeline, MailWizz sync outcomes, the domain blacklist and the WHOIS lookups. */
export default function Stats() {
  const [days, setDays] = useState('30');
  const [domain, setDomain] = useState('');
  const volumes = useQuery({ queryKey: ['stats-volumes', days], queryFn: () => apiGet<Volumes>('/api/v1/stats/volumes', { days }) });
  const blacklist = useQuery({ queryKey: ['leads-blacklist', domain], queryFn: () => apiGet<Blacklist>('/api/v1/leads/blacklist', { limit: 50, domain }) });
  const whois = useQuery({ queryKey: ['leads-whois'], queryFn: () => apiGet<Whois>('/api/v1/leads/whois', { limit: 20 }) });
  const error = volumes.error ?? blacklist.error ?? whois.error;
  // Days as the rest of the console writes them (the tooltip's title too), without the year on the axis;
  // counts grouped, the axis in short figures.
  const perDay = volumes.data?.days.map((d) => ({ ...d, day: formatDay(d.day) })) ?? [];
  const mailwizz = volumes.data?.days.map((d) => ({ day: formatDay(d.day), ...d.mailwizz })) ?? [];
  const dayTick = (d: string) => d.replace(/,? \d{4}$/, '');
  const axes = { valueFormatter: formatCount, xAxisProps: { tickFormatter: dayTick }, yAxisProps: { tickFormatter: formatCompact } };
  const total = (k: keyof Volumes['days'][number]) => volumes.data?.days.reduce((n, d) => n + (d[k] as number), 0) ?? 0;
  return (
    <Stack data-testid="stats-tab">
      <Group>
        <Title order={3}>Stats</Title>
        <SegmentedControl value={days} onChange={setDays} data={['7', '30', '90']} aria-label="days" />
        {volumes.data && (
          <Text c="dimmed" size="sm">
            {formatDay(volumes.data.from)} → {formatDay(volumes.data.to)} (UTC days)
          </Text>
        )}
      </Group>
      {error && <Alert color="red">{errorMessage(error)}</Alert>}
      <SimpleGrid cols={{ base: 2, sm: 6 }} data-testid="volume-totals">
        {PIPELINES.map((p) => (
          <Figure key={p.name} label={p.label} value={total(p.name as keyof Volumes['days'][number])} />
        ))}
      </SimpleGrid>
      <Title order={4}>Volumes per day</Title>
      <LineChart h={260} data={perDay} dataKey="day" series={PIPELINES} curveType="linear" withLegend data-testid="volumes-chart" {...axes} />
      <Title order={4}>MailWizz sync</Title>
      <BarChart h={220} data={mailwizz} dataKey="day" type="stacked" series={OUTCOMES} withLegend data-testid="mailwizz-chart" {...axes} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Stack>
          <Group>
            <Title order={4}>Domain blacklist</Title>
            {blacklist.data && (
              <Text size="sm" c="dimmed">
                {formatCount(blacklist.data.domains)} domains, {formatCount(blacklist.data.manual)} blocked by hand, {formatCount(blacklist.data.bounced)} bounced of{' '}
                {formatCount(blacklist.data.sent)} sent
              </Text>
            )}
          </Group>
          <TextInput placeholder="domain contains…" value={domain} onChange={(e) => setDomain(e.currentTarget.value)} aria-label="blacklist domain" />
          <Table striped withTableBorder data-testid="blacklist">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Domain</Table.Th>
                <Table.Th>Sent</Table.Th>
                <Table.Th>Bounced</Table.Th>
                <Table.Th>Rate</Table.Th>
                <Table.Th>Blocked by hand</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {blacklist.data?.items.map((b) => (
                <Table.Tr key={b.domain}>
                  <Table.Td>{b.domain}</Table.Td>
                  <Table.Td>{formatCount(b.sent)}</Table.Td>
                  <Table.Td>{formatCount(b.bounced)}</Table.Td>
                  <Table.Td>{formatPercent(b.bounce_rate)}</Table.Td>
                  <Table.Td>{b.manual_reason && <StatusBadge code={b.manual_reason} color="red" />}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
        <Stack>
          <Title order={4}>WHOIS lookups</Title>
          {whois.data && (
            <SimpleGrid cols={4} data-testid="whois-figures">
              <Figure label="cached" value={whois.data.total} />
              <Figure label="found" value={whois.data.found} />
              <Figure label="expired" value={whois.data.expired} />
              <Figure label="last 24 h" value={whois.data.last_24h} />
            </SimpleGrid>
          )}
          {whois.data && whois.data.registrars.length > 0 && <BarChart h={160} data={whois.data.registrars} dataKey="registrar" series={[{ name: 'domains', color: 'blue.6' }]} />}
          <Table striped withTableBorder data-testid="whois-latest">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Domain</Table.Th>
                <Table.Th>Registrar</Table.Th>
                <Table.Th>Registered</Table.Th>
                <Table.Th>Looked up</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {whois.data?.latest.map((w) => (
                <Table.Tr key={w.domain}>
                  <Table.Td>{w.domain}</Table.Td>
                  <Table.Td>{w.found ? (w.registrar ?? '—') : <StatusBadge code="not found" color="gray" />}</Table.Td>
                  <Table.Td>
                    <DateTime iso={w.registered_at} day />
                  </Table.Td>
                  <Table.Td>
                    <DateTime iso={w.fetched_at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
