/**
 * Encryption of every Temporal payload (workflow and activity inputs, results, signals, queries,
 * memos, heartbeat details): AES-256-GCM, the key's id written in the payload's metadata so that keys
 * rotate (the first key of MOISSON_PAYLOAD_KEYS encrypts, any listed key decrypts). Histories then hold
 * ciphertext only; an operator with the key reads them through the codec endpoint (api/codec).
 *
 * Workers, clients (CLI, API, Schedules, scripts) all take `temporalDataConverter(config)`: with no key
 * configured it is the SDK's default converter, so payloads are plain as before.
 *
 * Only type imports from the SDK here: this module is loaded by the worker process under Node's ESM
 * loader, where named imports of CommonJS packages such as `@temporalio/proto` fail at start-up.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { entryScript } from '../activities/engine/entry-script';
import { PAYLOAD_KEY_BYTES, type PayloadCodecConfig, type PayloadKey } from '../schema/config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class PayloadKeyLengthError extends Error {
  override readonly name = 'PayloadKeyLengthError';
  constructor(
    readonly keyId: string,
    readonly bytes: number,
  ) {
    super(`payload key '${keyId}' is ${bytes} bytes; AES-256 needs ${PAYLOAD_KEY_BYTES}`);
  }
}

export class NoPayloadKeyError extends Error {
  override readonly name = 'NoPayloadKeyError';
  constructor() {
    super('the payload codec needs at least one key (MOISSON_PAYLOAD_KEYS)');
  }
}

/** A payload encrypted with a key this process does not have (rotated out too early, or another deployment's). */
export class UnknownPayloadKeyError extends Error {
  override readonly name = 'UnknownPayloadKeyError';
  constructor(
    readonly keyId: string,
    readonly known: string[],
  ) {
    super(`payload encrypted with key '${keyId}', which is not among the configured keys (${known.join(', ')}): add it back to MOISSON_PAYLOAD_KEYS`);
  }
}

/** The ciphertext, its key id or its frame was changed: GCM authentication failed. */
export class TamperedPayloadError extends Error {
  override readonly name = 'TamperedPayloadError';
  constructor(
    readonly keyId: string,
    detail: string,
  ) {
    super(`encrypted payload (key '${keyId}') does not authenticate: ${detail}`);
  }
}

function metadataOf(p: Payload): Record<string, Uint8Array> {
  return (p.metadata ?? {}) as Record<string, Uint8Array>;
}

/**
 * The plaintext frame: a 4-byte length, the original metadata as JSON (values in base64), then the
 * original data bytes as they are (no base64 inflation of large payloads).
 */
function frame(p: Payload): Buffer {
  const meta = Object.fromEntries(Object.entries(metadataOf(p)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  const header = utf8.encode(JSON.stringify(meta));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  return Buffer.concat([len, header, p.data ?? new Uint8Array()]);
}

function unframe(plain: Buffer, keyId: string): Payload {
  if (plain.length < 4) throw new TamperedPayloadError(keyId, 'frame too short');
  const n = plain.readUInt32BE(0);
  if (4 + n > plain.length) throw new TamperedPayloadError(keyId, 'frame header overruns the payload');
  const meta = JSON.parse(fromUtf8.decode(plain.subarray(4, 4 + n))) as Record<string, string>;
  return {
    metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(plain.subarray(4 + n)),
  };
}

export class PayloadEncryptionCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: PayloadKey;

  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new NoPayloadKeyError();
    for (const k of keys) {
      if (k.key.length !== PAYLOAD_KEY_BYTES) throw new PayloadKeyLengthError(k.id, k.key.length);
      this.keys.set(k.id, Buffer.from(k.key));
    }
    this.current = keys[0]!;
  }

  /** The id new payloads are encrypted with. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  encrypt(p: Payload): Payload {
    const id = this.current.id;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    // The key id is authenticated too: relabelling a payload with another id fails like any tampering.
    cipher.setAAD(utf8.encode(id));
    const body = Buffer.concat([cipher.update(frame(p)), cipher.final()]);
    return {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
      data: new Uint8Array(Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, body, cipher.getAuthTag()])),
    };
  }

  /** Payloads that are not encrypted (written before keys were configured) pass through unchanged. */
  decrypt(p: Payload): Payload {
    const meta = metadataOf(p);
    if (!meta.encoding || fromUtf8.decode(meta.encoding) !== ENCRYPTED_ENCODING) return p;
    const id = meta[KEY_ID_METADATA] ? fromUtf8.decode(meta[KEY_ID_METADATA]) : '';
    const key = this.keys.get(id);
    if (!key) throw new UnknownPayloadKeyError(id, [...this.keys.keys()]);
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < 1 + IV_BYTES + TAG_BYTES) throw new TamperedPayloadError(id, 'too short to be a ciphertext');
    if (data[0] !== FORMAT_VERSION) throw new TamperedPayloadError(id, `unknown format version ${data[0]}`);
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new TamperedPayloadError(id, (err as Error).message);
    }
    return unframe(plain, id);
  }
}

/** The codec of this configuration, or undefined when no key is configured (payloads stay plain). */
export function payloadCodecFor(config: PayloadCodecConfig): PayloadEncryptionCodec | undefined {
  return config.keys.length > 0 ? new PayloadEncryptionCodec(config.keys) : undefined;
}

/**
 * Loaded by path by the SDK (client, worker, workflow bundle): failure messages and stacks become payloads.
 * The SDK `require()`s it: in the built worker that is the build's JavaScript entry, not the TypeScript source.
 */
export const failureConverterPath = fileURLToPath(entryScript('failure-converter', import.meta.url));

/**
 * What every Worker and Client of moisson is given as `dataConverter`. With keys, failures' messages
 * and stack traces are encoded too (they carry contact data: an address MailWizz refused, a URL).
 */
export function temporalDataConverter(config: PayloadCodecConfig): DataConverter {
  const codec = payloadCodecFor(config);
  return codec ? { payloadCodecs: [codec], failureConverterPath } : {};
}
