import { useInfiniteQuery } from '@tanstack/react-query';
import { apiGet, type Query } from './api';

/** A keyset-paged list of the API (`{items, page: {next_cursor}}`), one page after another as the table scrolls. */
export function useCursorList<T>(path: string, query: Query, pageSize = 100) {
  const q = useInfiniteQuery({
    queryKey: [path, query],
    queryFn: ({ pageParam, signal }) =>
      apiGet<{ items: T[]; page: { has_more: boolean; next_cursor: string | null } }>(path, { ...query, limit: pageSize, cursor: pageParam ?? undefined }, { signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.page.next_cursor,
  });
  const rows = q.data?.pages.flatMap((p) => p.items) ?? [];
  const more = () => {
    if (q.hasNextPage && !q.isFetchingNextPage) void q.fetchNextPage();
  };
  return { ...q, rows, more };
}

/** The query without empty values, as the API's filters. */
export function filtersOf(values: Record<string, string | null | undefined>): Query {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v.trim() !== ''));
}
