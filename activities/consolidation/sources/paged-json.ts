/** A JSON API paged by number (CMA's réparacteurs): `page` + `page_size`, `total_entries`, rows in `data[]`. */
import { ResponseShapeError } from '../../engine/errors';
import { requestJson } from '../../engine/http';
import type { PagedJsonLocation } from './declaration';
import type { RawRow, ReaderDeps } from './types';

const cell = (v: unknown): RawRow[string] => (v === undefined || v === null ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v));

export async function* readPagedJson(location: PagedJsonLocation, deps: ReaderDeps): AsyncGenerator<RawRow[]> {
  let total: number | undefined;
  let seen = 0;
  for (let page = location.firstPage; ; page++) {
    const url = new URL(deps.resolveUrl(location.url));
    url.searchParams.set(location.pageParam, String(page));
    url.searchParams.set(location.pageSizeParam, String(location.pageSize));
    const { body } = await requestJson(url.toString(), { timeoutMs: deps.timeoutMs });
    const record = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    const data = record?.[location.dataField];
    const pageTotal = record?.[location.totalField];
    if (!Array.isArray(data) || typeof pageTotal !== 'number') {
      throw new ResponseShapeError(`${url.toString()}: expected an object with \`${location.dataField}\` (array) and \`${location.totalField}\` (number)`, { url: url.toString() });
    }
    total ??= pageTotal;
    const rows = data.map((r, i) => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) throw new ResponseShapeError(`${url.toString()}: \`${location.dataField}[${i}]\` is not an object`, { url: url.toString() });
      return Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k, cell(v)]));
    });
    seen += rows.length;
    if (rows.length) yield rows;
    if (rows.length === 0 || seen >= total) return;
  }
}
