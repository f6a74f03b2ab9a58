/** Binary downloads (archives), with the failures classified like the engine's JSON requests. */
import { NotAvailableError, InvalidInputError, TransientError } from '../../engine/errors';
import { countHttpRequest, redactUrl } from '../../engine/http';

export async function requestBytes(url: string, timeoutMs: number): Promise<Uint8Array> {
  const safeUrl = redactUrl(url);
  let res: Response;
  let body: ArrayBuffer;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    body = await res.arrayBuffer();
  } catch (err) {
    countHttpRequest(url, { error: err });
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    if (timedOut) throw new TransientError('timeout', `no answer from ${safeUrl} within ${timeoutMs} ms`, { url: safeUrl });
    throw new TransientError('network', `request to ${safeUrl} failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`, { url: safeUrl });
  }
  countHttpRequest(url, { status: res.status });
  if (res.status >= 500) throw new TransientError('server', `${safeUrl} answered ${res.status}`, { url: safeUrl, status: res.status });
  if (res.status === 404) throw new NotAvailableError(`${safeUrl} does not exist (404)`, { url: safeUrl, status: 404 });
  if (res.status >= 400) throw new InvalidInputError(`${safeUrl} rejected the request (${res.status})`, { url: safeUrl, status: res.status });
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > 0 && declared !== body.byteLength) {
    throw new TransientError('truncated', `${safeUrl}: got ${body.byteLength} of ${declared} bytes`, { url: safeUrl });
  }
  return new Uint8Array(body);
}
