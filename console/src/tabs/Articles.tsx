import { Alert, Anchor, Button, Group, Loader, Modal, ScrollArea, Select, Stack, Text, TextInput, Title, Typography } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiGet, errorMessage, withQuery } from '../api';
import { DateTime, StatusBadge } from '../components/Labels';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { formatCount } from '../format';
import { filtersOf, useCursorList } from '../hooks';

interface Article {
  id: number;
  jobId: string;
  url: string;
  domain: string | null;
  title: string | null;
  author: string | null;
  publishedAt: string | null;
  language: string | null;
  excerpt: string | null;
  wordCount: number;
  readability: number | null;
  createdAt: string;
}
interface Facets {
  total: number;
  languages: { value: string; count: number }[];
  domains: { value: string; count: number }[];
}

const columns: Column<Article>[] = [
  { key: 'title', header: 'Title', render: (a) => a.title ?? a.url },
  { key: 'domain', header: 'Domain', width: '18%', render: (a) => a.domain },
  { key: 'language', header: 'Language', width: 96, render: (a) => a.language && <StatusBadge code={a.language} /> },
  { key: 'author', header: 'Author', width: '14%', render: (a) => a.author },
  { key: 'published', header: 'Published', width: 130, render: (a) => <DateTime iso={a.publishedAt} day /> },
  { key: 'words', header: 'Words', width: 80, render: (a) => formatCount(a.wordCount) },
];

export default function Articles() {
  const [q, setQ] = useState('');
  const [domain, setDomain] = useState<string | null>(null);
  const [language, setLanguage] = useState<string | null>(null);
  const [debouncedQ] = useDebouncedValue(q, 300);
  const [selected, setSelected] = useState<number | null>(null);
  const facets = useQuery({ queryKey: ['article-facets'], queryFn: () => apiGet<Facets>('/api/v1/leads/articles/facets') });
  const filters = filtersOf({ q: debouncedQ, domain, language });
  const rows = useCursorList<Article>('/api/v1/leads/articles', filters);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Articles</Title>
        <Text c="dimmed" size="sm">
          {facets.data ? `${formatCount(facets.data.total)} articles from blog sources` : ''}
        </Text>
      </Group>
      <Group align="flex-end">
        <TextInput label="Title" placeholder="words of the title" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={240} />
        <Select label="Domain" data={(facets.data?.domains ?? []).map((d) => ({ value: d.value, label: `${d.value} (${d.count})` }))} value={domain} onChange={setDomain} clearable searchable w={240} />
        <Select label="Language" data={(facets.data?.languages ?? []).map((d) => ({ value: d.value, label: `${d.value} (${d.count})` }))} value={language} onChange={setLanguage} clearable w={150} />
        <Button component="a" variant="light" href={withQuery('/api/v1/leads/articles/export/csv', filters)} download>
          Export CSV
        </Button>
        <Button component="a" variant="light" href={withQuery('/api/v1/leads/articles/export/jsonl', filters)} download>
          Export JSON Lines
        </Button>
      </Group>
      {rows.isError && <Alert color="red">{errorMessage(rows.error)}</Alert>}
      <VirtualTable
        rows={rows.rows}
        columns={columns}
        rowKey={(a) => a.id}
        onRowClick={(a) => setSelected(a.id)}
        onEndReached={rows.more}
        loadingMore={rows.isFetching}
        testId="articles-table"
        empty={facets.data?.total === 0 ? 'No article yet: a scraping job of type blog stores the articles it reads.' : undefined}
      />
      <Modal opened={selected !== null} onClose={() => setSelected(null)} size="xl" title="Article">
        {selected !== null && <ArticlePanel id={selected} />}
      </Modal>
    </Stack>
  );
}

function ArticlePanel({ id }: { id: number }) {
  const d = useQuery({ queryKey: ['article', id], queryFn: () => apiGet<Article & { text: string }>(`/api/v1/leads/articles/${id}`) });
  if (d.isPending) return <Loader />;
  if (d.isError) return <Alert color="red">{errorMessage(d.error)}</Alert>;
  const a = d.data;
  return (
    <Stack data-testid="article-detail">
      <Title order={4}>{a.title ?? a.url}</Title>
      <Group gap="xs">
        {a.language && <StatusBadge code={a.language} />}
        {a.author && <Text size="sm">{a.author}</Text>}
        {a.publishedAt && (
          <Text size="sm">
            <DateTime iso={a.publishedAt} day />
          </Text>
        )}
        <Text size="sm" c="dimmed">
          {formatCount(a.wordCount)} words{a.readability !== null ? ` · readability ${a.readability.toFixed(1)}` : ''}
        </Text>
      </Group>
      <Anchor href={a.url} target="_blank" rel="noreferrer" size="sm">
        {a.url}
      </Anchor>
      <ScrollArea h={420}>
        <Typography>
          {a.text.split(/\n{2,}/).map((p, i) => (
            <p key={i}>{p}</p>
          ))}
        </Typography>
      </ScrollArea>
    </Stack>
  );
}
