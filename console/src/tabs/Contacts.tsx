import { Text } from '@mantine/core';

/** Placeholder of the scaffold commit; the tab's content lands in the next commit of branch console-core. */
export default function Contacts() {
  return <Text c="dimmed">Contacts: coming in the next commit.</Text>;
}
