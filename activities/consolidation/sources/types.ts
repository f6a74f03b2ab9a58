/** A source row as its reader yields it: column names as the source spells them. */
export type RawRow = Record<string, string | number | boolean | null>;

/** What readers share: the HTTP timeout, and where a declared endpoint is really fetched from. */
export interface ReaderDeps {
  timeoutMs: number;
  /** Maps a declared URL to the one fetched (replicas, mirrors); identity by default. */
  resolveUrl: (url: string) => string;
}
