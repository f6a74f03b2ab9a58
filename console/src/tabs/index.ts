/**
 * The console's tabs, in menu order. A tab is `console/src/tabs/<Name>.tsx` with a default-exported
 * component and one line here; its `id` is its URL hash (`/console/#/<id>`).
 */
import type { ComponentType } from 'react';
import Articles from './Articles';
import Contacts from './Contacts';
import Jobs from './Jobs';

export interface ConsoleTab {
  id: string;
  label: string;
  component: ComponentType;
}

export const tabs: ConsoleTab[] = [
  { id: 'jobs', label: 'Jobs', component: Jobs },
  { id: 'contacts', label: 'Contacts', component: Contacts },
  { id: 'articles', label: 'Articles', component: Articles },
];
