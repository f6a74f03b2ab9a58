/**
 * Failures of the pmmp page parsers, as types the activities can map to "what happens next":
 * a changed page shape stops the run (retrying will not change the markup); a WAF rejection
 * means back off (retrying now makes it worse). Neither is a rejected record: a single bad
 * field is reported as a `ParseProblem` next to the items, and the page still parses.
 */

export type PmmpPageKind = 'list' | 'detail' | 'lots' | 'bdc-results';

/** The page lacks a part every page of its kind has: the markup changed, or it is not that page. */
export class PageShapeError extends Error {
  override readonly name = 'PageShapeError';
  readonly kind: PmmpPageKind;
  /** What was looked for and not found, as selectors or field names. */
  readonly missing: string[];

  constructor(kind: PmmpPageKind, missing: string[], detail?: string) {
    super(`pmmp ${kind} page has an unexpected shape: missing ${missing.join(', ')}${detail ? ` (${detail})` : ''}`);
    this.kind = kind;
    this.missing = missing;
  }
}

/** The portal's WAF answered instead of the application ("Request Rejected", F5 BIG-IP ASM). */
export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  readonly kind: PmmpPageKind;
  /** The "support ID" the block page quotes, useful when asking the portal's operators. */
  readonly supportId: string | null;

  constructor(kind: PmmpPageKind, supportId: string | null) {
    super(`pmmp ${kind} request was rejected by the portal's firewall${supportId ? ` (support ID ${supportId})` : ''}`);
    this.kind = kind;
    this.supportId = supportId;
  }
}
