/**
 * Pure parsers of marchespublics.gov.ma pages: HTML string in, validated items out, no I/O.
 * Activities fetch and store; these only read.
 */
import { parseBdcResults } from './bdc';
import { parseConsultationDetail } from './detail';
import { parseResultList } from './list';
import { parseLots } from './lots';

export * from './bdc';
export * from './detail';
export * from './dom';
export * from './errors';
export * from './fr';
export * from './list';
export * from './lots';
export * from './problems';
export * from '../../../schema/pmmp/items';

export type PmmpParserName = 'list' | 'detail' | 'lots' | 'bdc-results';

/** By page kind, for `moisson pmmp parse FILE --as <kind>`. */
export const parsers: Record<PmmpParserName, (html: string) => unknown> = {
  list: (html) => parseResultList(html),
  detail: (html) => parseConsultationDetail(html),
  lots: (html) => parseLots(html),
  'bdc-results': (html) => parseBdcResults(html),
};
