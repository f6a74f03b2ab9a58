/**
 * SeaweedFS as the local stack's S3-compatible server: one `weed server` process (master, volume server,
 * filer and the S3 gateway), its data under one folder, its S3 identities from a JSON file written before
 * it starts. The stack runs it by pid file like its other services; tests that need one while the stack
 * does not run it start their own from the same command, on their own folder and ports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/**
 * The local server's identity. Not a secret: like the replicas' tokens it opens nothing but this
 * loopback server. A real deployment sets CONSOLIDATION_S3_* to its own bucket and keys.
 */
export const LOCAL_S3 = {
  accessKeyId: 'moisson-local',
  secretAccessKey: 'moisson-local-secret',
  region: 'us-east-1',
  bucket: 'moisson-consolidation',
} as const;

export interface SeaweedFsPorts {
  s3: number;
  master: number;
  volume: number;
  filer: number;
}

export interface SeaweedFsLayout {
  binary: string;
  dataDir: string;
  ports: SeaweedFsPorts;
}

/** Writes the S3 identities file and returns the command line; `marker` identifies the process by pid. */
export function seaweedFsCommand(layout: SeaweedFsLayout): { cmd: string; args: string[]; marker: string } {
  const { dataDir, ports } = layout;
  mkdirSync(join(dataDir, 'volume'), { recursive: true });
  mkdirSync(join(dataDir, 'master'), { recursive: true });
  const s3Config = join(dataDir, 's3.json');
  writeFileSync(
    s3Config,
    JSON.stringify({
      identities: [
        {
          name: 'moisson',
          credentials: [{ accessKey: LOCAL_S3.accessKeyId, secretKey: LOCAL_S3.secretAccessKey }],
          actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
        },
      ],
    }),
    { mode: 0o600 },
  );
  return {
    cmd: layout.binary,
    // The data folder is in the command line, so two servers (the stack's, a test's) never match each other.
    marker: `-dir=${join(dataDir, 'volume')}`,
    args: [
      'server',
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-dir=${join(dataDir, 'volume')}`,
      `-master.dir=${join(dataDir, 'master')}`,
      `-master.port=${ports.master}`,
      // Small volumes: a laptop's disk, not a cluster's.
      '-master.volumeSizeLimitMB=256',
      `-volume.port=${ports.volume}`,
      '-volume.max=32',
      '-filer',
      `-filer.port=${ports.filer}`,
      '-s3',
      `-s3.port=${ports.s3}`,
      `-s3.config=${s3Config}`,
      // Its Iceberg catalog and Lance namespace would take ports 8181 and 9101 of their own accord (a second
      // stack on other ports then fails to start): neither is used here.
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      // The master reports cluster statistics to SeaweedFS' telemetry server unless told not to.
      '-master.telemetry=false',
    ],
  };
}

export function localS3Client(port: number): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: LOCAL_S3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: LOCAL_S3.accessKeyId, secretAccessKey: LOCAL_S3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/**
 * Ready when the S3 gateway answers an authenticated request and the default bucket exists (created
 * here, idempotently: the filer comes up a moment after the gateway's port opens).
 */
export async function seaweedFsReady(port: number, bucket: string = LOCAL_S3.bucket): Promise<boolean> {
  const client = localS3Client(port);
  try {
    const list = await client.send(new ListBucketsCommand({}));
    if (!(list.Buckets ?? []).some((b) => b.Name === bucket)) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        if (!(err instanceof S3ServiceException && /BucketAlready(OwnedByYou|Exists)/.test(err.name))) throw err;
      }
    }
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
