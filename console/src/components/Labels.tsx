import { Badge, type BadgeProps } from '@mantine/core';
import { formatDateTime, formatDay } from '../format';

/**
 * A status as a badge that is never cut: Mantine's Badge hides its overflow, so in a table's narrow column
 * it shrank to "EN_…"; here it is at least as wide as its words, and the words are the label an operator
 * reads (`label`), the code kept in the `title` for whoever needs it.
 */
export function StatusBadge({ code, label, ...props }: { code: string; label?: string } & Omit<BadgeProps, 'children'>) {
  return (
    <Badge variant="light" tt="none" title={label && label !== code ? code : undefined} {...props} style={{ minWidth: 'max-content', flexShrink: 0 }}>
      {label ?? code}
    </Badge>
  );
}

/** A moment as the console writes every moment (format.ts), the exact ISO value on hover. */
export function DateTime({ iso, day = false }: { iso: string | null | undefined; day?: boolean }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={iso} style={{ whiteSpace: 'nowrap' }}>
      {day ? formatDay(iso) : formatDateTime(iso)}
    </time>
  );
}
