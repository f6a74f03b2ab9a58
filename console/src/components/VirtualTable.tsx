import { Box, Center, Loader, Table, Text } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: ReactNode;
  width?: number | string;
  render: (row: T) => ReactNode;
}

export interface VirtualTableProps<T> {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  onRowClick?: (row: T) => void;
  /** Called when the last rows come into view: the next page of an infinite query. */
  onEndReached?: () => void;
  loadingMore?: boolean;
  height?: number;
  rowHeight?: number;
  empty?: ReactNode;
  testId?: string;
}

/** A cell on one line, cut with an ellipsis when too long: a plain text value is then whole on hover. */
function Cell({ content }: { content: ReactNode }) {
  return (
    <Table.Td style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={typeof content === 'string' || typeof content === 'number' ? String(content) : undefined}>
      {content}
    </Table.Td>
  );
}

/**
 * A Mantine table that renders only the rows in view (@tanstack/react-virtual): lists of tens of thousands
 * of rows scroll as fast as lists of fifty. Rows outside the window are replaced by two spacer rows.
 */
export function VirtualTable<T>({ rows, columns, rowKey, onRowClick, onEndReached, loadingMore, height = 560, rowHeight = 38, empty, testId }: VirtualTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const last = items.at(-1);
  useEffect(() => {
    if (onEndReached && last && last.index >= rows.length - 5) onEndReached();
  }, [last, rows.length, onEndReached]);
  const before = items[0]?.start ?? 0;
  const after = last ? virtualizer.getTotalSize() - last.end : 0;
  return (
    <Box ref={scrollRef} h={height} style={{ overflow: 'auto', border: '1px solid var(--mantine-color-gray-3)', borderRadius: 4 }} data-testid={testId}>
      <Table striped highlightOnHover stickyHeader layout="fixed">
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.key} w={c.width}>
                {c.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {before > 0 && (
            <tr>
              <td colSpan={columns.length} style={{ height: before, padding: 0 }} />
            </tr>
          )}
          {items.map((vi) => {
            const row = rows[vi.index]!;
            return (
              <Table.Tr key={rowKey(row)} h={rowHeight} onClick={onRowClick ? () => onRowClick(row) : undefined} style={onRowClick ? { cursor: 'pointer' } : undefined} data-row>
                {columns.map((c) => (
                  <Cell key={c.key} content={c.render(row)} />
                ))}
              </Table.Tr>
            );
          })}
          {after > 0 && (
            <tr>
              <td colSpan={columns.length} style={{ height: after, padding: 0 }} />
            </tr>
          )}
        </Table.Tbody>
      </Table>
      {rows.length === 0 && !loadingMore && (
        <Center p="lg">
          <Text c="dimmed">{empty ?? 'Nothing matches.'}</Text>
        </Center>
      )}
      {loadingMore && (
        <Center p="sm">
          <Loader size="sm" />
        </Center>
      )}
    </Box>
  );
}
