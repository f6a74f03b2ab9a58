import type { ConsolidationS3Config } from '../../../schema/config';

/** A source row as its reader yields it: column names as the source spells them. */
export type RawRow = Record<string, string | number | boolean | null>;

/** What readers share: the HTTP timeout, where a declared endpoint is really fetched from, the S3 settings. */
export interface ReaderDeps {
  timeoutMs: number;
  /** Maps a declared URL to the one fetched (replicas, mirrors); identity by default. */
  resolveUrl: (url: string) => string;
  /**
   * The S3 server and keys (CONSOLIDATION_S3_*), read only when an `s3` source is: a missing or bad S3
   * setting fails that source, never the HTTP ones.
   */
  s3Config?: () => ConsolidationS3Config;
}
