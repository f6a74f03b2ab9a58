import { useQuery } from '@tanstack/react-query';
import { apiGet, type ConsoleConfig } from './api';

/** The server settings the page shows (the Temporal Web UI's address), fetched once per session. */
export function useConsoleConfig(): ConsoleConfig | undefined {
  return useQuery({ queryKey: ['console-config'], queryFn: () => apiGet<ConsoleConfig>('/api/v1/console/config'), staleTime: Infinity }).data;
}

/** The run's page in the Temporal Web UI. */
export function temporalRunUrl(config: ConsoleConfig, workflowId: string): string {
  return `${config.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
