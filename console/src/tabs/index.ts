/**
 * The console's tabs, in menu order. A tab is `console/src/tabs/<Name>.tsx` with a default-exported
 * component and one line here; its `id` is its URL hash (`/console/#/<id>`).
 */
import type { ComponentType } from 'react';
import Articles from './Articles';
import Contacts from './Contacts';
import Jobs from './Jobs';
import Procurement from './Procurement';
import Prices from './Prices';
import ApiSync from './ApiSync';
import ConsolidationReview from './ConsolidationReview';
import Stats from './Stats';
import Health from './Health';

export interface ConsoleTab {
  id: string;
  label: string;
  component: ComponentType;
}

export const tabs: ConsoleTab[] = [
  { id: 'jobs', label: 'Jobs', component: Jobs },
  { id: 'contacts', label: 'Contacts', component: Contacts },
  { id: 'articles', label: 'Articles', component: Articles },
  { id: 'procurement', label: 'Procurement', component: Procurement },
  { id: 'prices', label: 'Prices', component: Prices },
  { id: 'apisync', label: 'API sync', component: ApiSync },
  { id: 'review', label: 'Consolidation review', component: ConsolidationReview },
  { id: 'stats', label: 'Stats', component: Stats },
  { id: 'health', label: 'Health', component: Health },
];
