import { LineChart } from '@mantine/charts';
import { Alert, Group, SegmentedControl, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiGet, errorMessage } from '../api';
import { DateTime } from '../components/Labels';
import { formatCount, formatDay, formatPrice } from '../format';

interface Quote {
  asset_code: string;
  asset_class: string;
  quote_date: string;
  price_mru: string;
  unit: string;
  source: string;
  direction: string;
}

/** The latest quote of every asset, and one asset's history as a chart. */
export default function Prices() {
  const [classe, setClasse] = useState('all');
  const [asset, setAsset] = useState<string | null>(null);
  const latest = useQuery({ queryKey: ['prices-latest', classe], queryFn: () => apiGet<{ items: Quote[] }>('/api/v1/prices/latest', { classe: classe === 'all' ? undefined : classe }) });
  const chosen = asset ?? latest.data?.items[0]?.asset_code ?? null;
  const history = useQuery({
    queryKey: ['prices-history', chosen],
    enabled: chosen !== null,
    queryFn: () => apiGet<{ asset_code: string; date_debut: string; date_fin: string; items: Quote[] }>(`/api/v1/prices/${encodeURIComponent(chosen!)}/history`),
  });
  const error = latest.error ?? history.error;
  const chosenClass = latest.data?.items.find((q) => q.asset_code === chosen)?.asset_class;
  // The tooltip at the table's precision; the axis' ticks without decimals from 1,000 on, the axis wide enough
  // for the longest of them (recharts clips what overflows).
  const tick = (v: number) => (Math.abs(v) >= 1000 ? formatCount(v) : formatPrice(v, chosenClass));
  // The day as the console writes days, on the axis and in the tooltip's title.
  const points = history.data?.items.map((q) => ({ date: formatDay(q.quote_date), price: Number(q.price_mru) })) ?? [];
  const axisWidth = Math.max(48, ...points.map((p) => tick(p.price).length * 8 + 16));
  return (
    <Stack data-testid="prices-tab">
      <Group>
        <Title order={3}>Prices</Title>
        <SegmentedControl value={classe} onChange={setClasse} data={['all', 'fx', 'crypto', 'metals']} aria-label="asset class" />
      </Group>
      {error && <Alert color="red">{errorMessage(error)}</Alert>}
      <Table striped highlightOnHover withTableBorder data-testid="prices-latest">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Asset</Table.Th>
            <Table.Th>Class</Table.Th>
            <Table.Th>Date</Table.Th>
            <Table.Th style={{ textAlign: 'right' }}>Price (MRU)</Table.Th>
            <Table.Th>Unit</Table.Th>
            <Table.Th>Source</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {latest.data?.items.map((q) => (
            <Table.Tr key={q.asset_code} onClick={() => setAsset(q.asset_code)} style={{ cursor: 'pointer' }} bg={q.asset_code === chosen ? 'var(--mantine-color-teal-light)' : undefined}>
              <Table.Td>{q.asset_code}</Table.Td>
              <Table.Td>{q.asset_class}</Table.Td>
              <Table.Td>
                <DateTime iso={q.quote_date} day />
              </Table.Td>
              <Table.Td style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }} title={q.price_mru}>
                {formatPrice(q.price_mru, q.asset_class)}
              </Table.Td>
              <Table.Td>{q.unit}</Table.Td>
              <Table.Td>{q.source}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Title order={4}>History</Title>
        <Select
          aria-label="asset"
          data={latest.data?.items.map((q) => q.asset_code) ?? []}
          value={chosen}
          onChange={setAsset}
          searchable
          w={160}
        />
        {history.data && (
          <Text size="sm" c="dimmed">
            {formatDay(history.data.date_debut)} → {formatDay(history.data.date_fin)}, {formatCount(history.data.items.length)} {history.data.items.length === 1 ? 'day' : 'days'} quoted
          </Text>
        )}
      </Group>
      {history.data && (
        <LineChart
          h={300}
          data-testid="prices-history"
          data={points}
          dataKey="date"
          series={[{ name: 'price', label: `${history.data.asset_code} (MRU)`, color: 'teal.6' }]}
          curveType="linear"
          valueFormatter={(v) => formatPrice(v, chosenClass)}
          yAxisProps={{ domain: ['auto', 'auto'], width: axisWidth, tickFormatter: tick }}
        />
      )}
    </Stack>
  );
}
