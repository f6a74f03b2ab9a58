/**
 * The console's tabs, in menu order. A tab is `console/src/tabs/<Name>.tsx` with a default-exported
 * component and one line here; its `id` is its URL hash (`/console/#/<id>`). Each tab is its own chunk,
 * loaded when first opened (React.lazy): the first page load carries the shell and one tab, and the
 * charting library (recharts, through @mantine/charts) only comes with the tabs that draw charts.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export interface ConsoleTab {
  id: string;
  label: string;
  component: LazyExoticComponent<ComponentType>;
}

export const tabs: ConsoleTab[] = [
  { id: 'jobs', label: 'Jobs', component: lazy(() => import('./Jobs')) },
  { id: 'contacts', label: 'Contacts', component: lazy(() => import('./Contacts')) },
  { id: 'articles', label: 'Articles', component: lazy(() => import('./Articles')) },
  { id: 'procurement', label: 'Procurement', component: lazy(() => import('./Procurement')) },
  { id: 'prices', label: 'Prices', component: lazy(() => import('./Prices')) },
  { id: 'apisync', label: 'API sync', component: lazy(() => import('./ApiSync')) },
  { id: 'review', label: 'Consolidation review', component: lazy(() => import('./ConsolidationReview')) },
  { id: 'whois', label: 'WHOIS lookup', component: lazy(() => import('./Whois')) },
  { id: 'stats', label: 'Stats', component: lazy(() => import('./Stats')) },
  { id: 'health', label: 'Health', component: lazy(() => import('./Health')) },
];
