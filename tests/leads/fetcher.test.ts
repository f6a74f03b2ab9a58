/**
 * The leads fetcher's rotation and delays from configuration: User-Agents and proxies rotated per
 * request (through real CONNECT proxies on loopback), a per-domain pause between requests.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createLeadsFetcher } from '../../activities/leads';
import { loadFetchConfig, loadLeadsConfig } from '../../schema/config';

const seen: { ua: string; at: number }[] = [];
let origin: Server;
const proxies: { server: Server; tunnels: number }[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

before(async () => {
  origin = createServer((req, res) => {
    seen.push({ ua: String(req.headers['user-agent']), at: performance.now() });
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>ok</body></html>');
  });
  await listen(origin);
  for (let i = 0; i < 2; i++) {
    const entry = { server: createServer(), tunnels: 0 };
    // A forward proxy as undici's ProxyAgent uses one: CONNECT host:port, then bytes both ways.
    entry.server.on('connect', (req, client, head) => {
      entry.tunnels++;
      const [host, port] = String(req.url).split(':');
      const upstream = connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await listen(entry.server);
    proxies.push(entry);
  }
});

after(async () => {
  for (const s of [origin, ...proxies.map((p) => p.server)]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(() => r(undefined)));
  }
});

test('User-Agents and proxies rotate per request; a domain delay spaces requests', async () => {
  const port = (origin.address() as AddressInfo).port;
  const leads = loadLeadsConfig({
    LEADS_PROXIES: proxies.map((p) => `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`).join(','),
    LEADS_USER_AGENTS: 'Mozilla/5.0 A\nMozilla/5.0 B\nMozilla/5.0 C',
    LEADS_SSRF_ALLOW: `127.0.0.1:${port}`,
    LEADS_DOMAIN_DELAYS: JSON.stringify({ [`127.0.0.1:${port}`]: [300, 300] }),
  });
  const fetcher = createLeadsFetcher(loadFetchConfig({ FETCH_POLITENESS: 'off', FETCH_ROBOTS: 'ignore' }), leads);
  try {
    for (let i = 0; i < 6; i++) assert.equal((await fetcher.get(`http://127.0.0.1:${port}/p${i}`)).status, 200);
  } finally {
    await fetcher.close();
  }
  assert.deepEqual(seen.map((s) => s.ua), ['Mozilla/5.0 A', 'Mozilla/5.0 B', 'Mozilla/5.0 C', 'Mozilla/5.0 A', 'Mozilla/5.0 B', 'Mozilla/5.0 C']);
  assert.ok(proxies.every((p) => p.tunnels >= 1), `both proxies used: ${proxies.map((p) => p.tunnels).join(', ')}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.at - seen[i - 1]!.at >= 290, `gap ${i}: ${seen[i]!.at - seen[i - 1]!.at} ms`);
});
