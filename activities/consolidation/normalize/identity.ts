/**
 * Acteur identity, bit-exact with QFDMOD: `identifiant_unique` (source stub + external id), the
 * displayed uuid of the map and open data (base57 of uuid5), and the id of a new cluster parent.
 */
import { v5 as uuidv5 } from 'uuid';
import { unidecode } from './text';

export const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

export function computeIdentifiantUnique(sourceCode: string, identifiantExterne: string | number): string {
  if (identifiantExterne === '' || identifiantExterne === null || identifiantExterne === undefined) throw new Error('Identifiant externe is required to generate identifiant_unique');
  if (!sourceCode) throw new Error('Source code is required to generate identifiant_unique');
  const sourceStub = unidecode(sourceCode.trim().toLowerCase()).replaceAll(' ', '_');
  const externalStub = String(identifiantExterne).trim().replaceAll('/', '-').replaceAll(' ', '');
  return `${sourceStub}_${externalStub}`;
}

/** shortuuid's alphabet: no 0, 1, I, O, l. */
const BASE57 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A uuid's 128 bits in base 57, most significant digit first, left-padded with '2' to 22 characters. */
export function base57(uuid: string): string {
  let n = BigInt(`0x${uuid.replaceAll('-', '')}`);
  let out = '';
  while (n > 0n) {
    out = BASE57[Number(n % 57n)]! + out;
    n /= 57n;
  }
  return out.padStart(22, BASE57[0]);
}

/** The uuid the map and the open data show for an acteur. */
export function displayedUuid(identifiantUnique: string): string {
  return base57(uuidv5(identifiantUnique, NAMESPACE_DNS));
}

/** A new cluster parent's id: the same children give the same parent, whatever their order. */
export function parentIdGenerate(childIdentifiantsUniques: string[]): string {
  return uuidv5([...childIdentifiantsUniques].sort().join(','), NAMESPACE_DNS);
}
