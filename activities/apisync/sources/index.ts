/** The sources apisync knows, by name. A new API is a definition here plus its settings in schema/config.ts. */
import type { ApisyncConfig, ApisyncSourceConfig } from '../../../schema/config';
import type { SourceDefinition } from '../definition';
import { pennylane } from './pennylane';

export const SOURCES: Record<string, SourceDefinition> = { pennylane };

export const SOURCE_NAMES = Object.keys(SOURCES);

/** The settings of a source (base URL, token, rate limit) from the apisync config section. */
export function sourceSettings(config: ApisyncConfig, source: string): ApisyncSourceConfig | undefined {
  return (config.sources as Record<string, ApisyncSourceConfig | undefined>)[source];
}
