/**
 * PRADO page state and PHP sessions, as the legacy interface behaves for a client.
 *
 * Every page carries a new PRADO_PAGESTATE: base64 of zlib-compressed JSON naming the session
 * and a sequence number, filler and an HMAC (so, like the portal's, it starts with "eJ", weighs
 * kilobytes and is opaque); the view it stands for stays on the server, in the session.
 * A postback is accepted only with the PHPSESSID cookie of the session that issued the state
 * and a state among the session's last `history` ones (default 1: the latest). Anything else
 * is PRADO's THttpException(400) "page state is corrupted" — the answer of PRADO's
 * session/cache state persisters when the state they are handed is not theirs or is gone
 * (see README.md for the evidence and what is inferred).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

import { hash32 } from './rng';
import { type LocalMs } from './clock';
import { type Category } from './vocab';

/** Which list a search runs on. 3 = consultations; 4, 5, 6 = notices. */
export type AnnonceType = 3 | 4 | 5 | 6;

export interface SearchCriteria {
  types: AnnonceType[];
  keyword: string | null;
  exact: boolean;
  reference: string | null;
  category: Category | null;
  procedureValue: string | null;
  org: string | null;
  deadlineFrom: LocalMs | null;
  deadlineTo: LocalMs | null;
  publishedFrom: LocalMs | null;
  publishedTo: LocalMs | null;
  /** Quick search and "consultations en cours": only consultations whose deadline is ahead. */
  openOnly: boolean;
  /** A posted-back textarea (idsDomaines, libelleQualif) with text: the portal then finds nothing. */
  impossible: boolean;
}

export interface FormViewState {
  view: 'form';
  /** `searchAnnCons` (annonceType fixed at 3) or `AllAnn` (annonceType selectable). */
  entry: 'searchAnnCons' | 'AllAnn';
  values: Record<string, string>;
}

export interface ResultsViewState {
  view: 'results';
  criteria: SearchCriteria;
  page: number;
  pageSize: number;
  /** The form the search came from, for "Modifier ma recherche". */
  form: FormViewState | null;
}

export type ViewState = FormViewState | ResultsViewState;

export interface Session {
  id: string;
  seq: number;
  lastSeen: number;
  /** Search page states, oldest first; at most `history` of them. */
  states: { n: number; view: ViewState }[];
}

export type StateCheck =
  | { ok: true; view: ViewState }
  | { ok: false; reason: 'missing' | 'corrupted' | 'foreign' | 'stale' };

export class PradoSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly secret: Buffer;
  private created = 0;

  constructor(
    private readonly seed: string,
    private readonly opts: { history: () => number; ttlMs: number; stateBytes: () => number; maxSessions?: number },
  ) {
    this.secret = createHash('sha256').update(`pmmp-replica-prado|${seed}`).digest();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** PHP session ids: 26 characters of [a-v0-9] (session.sid_bits_per_character=5). */
  newSession(now: number): Session {
    this.created += 1;
    const digest = createHash('sha256').update(`${this.seed}|sid|${this.created}`).digest();
    let id = '';
    for (let i = 0; i < 26; i++) id += '0123456789abcdefghijklmnopqrstuv'.charAt((digest[i] ?? 0) % 32);
    const s: Session = { id, seq: 0, lastSeen: now, states: [] };
    this.sessions.set(id, s);
    this.evict(now);
    return s;
  }

  get(id: string | undefined, now: number): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (now - s.lastSeen > this.opts.ttlMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  private evict(now: number): void {
    const max = this.opts.maxSessions ?? 20_000;
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= max && now - s.lastSeen <= this.opts.ttlMs) break;
      this.sessions.delete(id);
    }
  }

  /** Records a search view and returns its page state. */
  issue(session: Session, view: ViewState): string {
    session.seq += 1;
    session.states.push({ n: session.seq, view });
    const keep = Math.max(1, this.opts.history());
    while (session.states.length > keep) session.states.shift();
    return this.token(session.id, session.seq, 'search');
  }

  /** A state for a page that is never posted back to (detail, lots): valid, but names no view. */
  issueStatic(session: Session, page: string): string {
    return this.token(session.id, hash32(page) % 1_000_000, 'page');
  }

  private filler = Buffer.alloc(0);

  /** Deterministic, incompressible bytes, computed once and sliced per state. */
  private fillerBytes(length: number, offset: number): Buffer {
    if (this.filler.length < length * 2) {
      const blocks: Buffer[] = [];
      let block = createHash('sha256').update(`${this.seed}|filler`).digest();
      for (let size = 0; size < length * 2 + 64; size += block.length) {
        blocks.push(block);
        block = createHash('sha256').update(block).digest();
      }
      this.filler = Buffer.concat(blocks);
    }
    const start = offset % (this.filler.length - length + 1);
    return this.filler.subarray(start, start + length);
  }

  /**
   * zlib-deflated JSON naming the session and the state (so the value starts with "eJ" like the
   * portal's), filler bringing it to about `stateBytes` characters (the portal's states are
   * 16-80 KB), the deflated part's length, and an HMAC over all of it.
   */
  private token(sid: string, n: number, ns: string): string {
    const body = deflateSync(Buffer.from(JSON.stringify({ s: sid, n, ns })));
    const pad = this.fillerBytes(Math.floor((this.opts.stateBytes() * 3) / 4), hash32(sid, n, ns));
    const length = Buffer.alloc(2);
    length.writeUInt16BE(body.length);
    const signed = Buffer.concat([body, pad, length]);
    const mac = createHmac('sha256', this.secret).update(signed).digest().subarray(0, 20);
    return Buffer.concat([signed, mac]).toString('base64');
  }

  check(session: Session, state: string | undefined): StateCheck {
    if (state === undefined || state === '') return { ok: false, reason: 'missing' };
    let raw: Buffer;
    try {
      raw = Buffer.from(state, 'base64');
    } catch {
      return { ok: false, reason: 'corrupted' };
    }
    if (raw.length < 24) return { ok: false, reason: 'corrupted' };
    const signed = raw.subarray(0, raw.length - 20);
    const mac = raw.subarray(raw.length - 20);
    const expected = createHmac('sha256', this.secret).update(signed).digest().subarray(0, 20);
    if (!timingSafeEqual(mac, expected)) return { ok: false, reason: 'corrupted' };
    const length = signed.readUInt16BE(signed.length - 2);
    let payload: { s?: string; n?: number; ns?: string };
    try {
      payload = JSON.parse(inflateSync(signed.subarray(0, length)).toString('utf8')) as typeof payload;
    } catch {
      return { ok: false, reason: 'corrupted' };
    }
    if (payload.s !== session.id) return { ok: false, reason: 'foreign' };
    if (payload.ns !== 'search') return { ok: false, reason: 'stale' };
    const entry = session.states.find((e) => e.n === payload.n);
    return entry ? { ok: true, view: entry.view } : { ok: false, reason: 'stale' };
  }
}
