import { Text } from '@mantine/core';

/** Placeholder of the scaffold commit; the tab's content lands in the next commit of branch console-core. */
export default function Articles() {
  return <Text c="dimmed">Articles: coming in the next commit.</Text>;
}
