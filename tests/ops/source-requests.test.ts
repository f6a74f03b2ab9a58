/**
 * Consolidation's binary downloads (`requestBytes`: zipped CSV sources) are counted in
 * `moisson_http_requests_total{host, status}` like the engine fetcher's requests, errors included.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { requestBytes } from '../../activities/consolidation/sources/http';
import { NotAvailableError, TransientError } from '../../activities/engine/errors';
import { seriesValue, testTelemetry } from '../support/metrics';

let server: Server;
let base = '';
before(async () => {
  testTelemetry();
  server = createServer((req, res) => {
    if (req.url === '/ok.zip') res.writeHead(200, { 'content-type': 'application/zip' }).end(Buffer.from('PK\x03\x04 data'));
    else if (req.url === '/busy') res.writeHead(503).end('busy');
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 1000);
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server?.closeAllConnections();
  server?.close();
});

test('downloads are counted by host and status, timeouts as timeout', async () => {
  const host = new URL(base).host;
  const count = async (status: string) => seriesValue(await testTelemetry().scrape(), 'moisson_http_requests_total', { host, status });
  assert.equal((await requestBytes(`${base}/ok.zip`, 2000)).length, 9);
  await assert.rejects(requestBytes(`${base}/missing.zip`, 2000), NotAvailableError);
  await assert.rejects(requestBytes(`${base}/busy`, 2000), TransientError);
  await assert.rejects(requestBytes(`${base}/slow`, 200), /within 200 ms/);
  assert.equal(await count('200'), 1);
  assert.equal(await count('404'), 1);
  assert.equal(await count('503'), 1);
  assert.equal(await count('timeout'), 1);
});
