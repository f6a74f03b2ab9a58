import { BarChart } from '@mantine/charts';
import { Alert, Group, SegmentedControl, SimpleGrid, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiGet, errorMessage } from '../api';
import { formatCompact, formatCount } from '../format';

interface Buyers {
  items: { buyer: string; consultations: number; estimation_ttc_total: string | null; lots_awarded: number; awarded_amount_total: string | null }[];
}
interface Winners {
  items: { winner: string; lots_won: number; consultations_won: number; awarded_amount_total: string | null; buyers: number }[];
}

/** Top buyers and winners (the statistics views), by count or by amount: the Procurement tab's charts, in their own chunk. */
export default function Charts() {
  const [tri, setTri] = useState('nombre');
  const buyers = useQuery({ queryKey: ['stats-organismes', tri], queryFn: () => apiGet<Buyers>('/api/v1/stats/organismes', { limit: 10, tri }) });
  const winners = useQuery({ queryKey: ['stats-attributaires', tri], queryFn: () => apiGet<Winners>('/api/v1/stats/attributaires', { limit: 10, tri }) });
  const error = buyers.error ?? winners.error;
  const short = (s: string) => (s.length > 28 ? `${s.slice(0, 27)}…` : s);
  return (
    <Stack>
      <Group>
        <Title order={4}>Buyers and winners</Title>
        <SegmentedControl value={tri} onChange={setTri} data={[{ value: 'nombre', label: 'by count' }, { value: 'montant', label: 'by amount' }]} />
      </Group>
      {error && <Alert color="red">{errorMessage(error)}</Alert>}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <BarChart
          h={320}
          data-testid="buyers-chart"
          orientation="vertical"
          data={(buyers.data?.items ?? []).map((b) => ({ buyer: short(b.buyer), consultations: b.consultations, lots: b.lots_awarded, montant: Number(b.awarded_amount_total ?? 0) }))}
          dataKey="buyer"
          yAxisProps={{ width: 180 }}
          valueFormatter={formatCount}
          xAxisProps={{ tickFormatter: formatCompact }}
          series={tri === 'montant' ? [{ name: 'montant', label: 'awarded (MAD)', color: 'teal.6' }] : [{ name: 'consultations', color: 'teal.6' }, { name: 'lots', label: 'lots awarded', color: 'blue.6' }]}
        />
        <BarChart
          h={320}
          data-testid="winners-chart"
          orientation="vertical"
          data={(winners.data?.items ?? []).map((w) => ({ winner: short(w.winner), lots: w.lots_won, montant: Number(w.awarded_amount_total ?? 0) }))}
          dataKey="winner"
          yAxisProps={{ width: 180 }}
          valueFormatter={formatCount}
          xAxisProps={{ tickFormatter: formatCompact }}
          series={tri === 'montant' ? [{ name: 'montant', label: 'won (MAD)', color: 'grape.6' }] : [{ name: 'lots', label: 'lots won', color: 'grape.6' }]}
        />
      </SimpleGrid>
    </Stack>
  );
}
