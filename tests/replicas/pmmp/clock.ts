/**
 * Portal time. The portal prints wall-clock times of Africa/Casablanca (UTC+1, UTC+0 around
 * Ramadan, as tzdata encodes the announced switches). The replica keeps every date as a
 * "local ms": Date.UTC() of the Casablanca wall-clock fields. Sorting, windows and printing
 * work on those directly; the real instant (for ISO offsets and dateBandeau) comes from a
 * per-day offset table filled from luxon, so that tens of thousands of records do not pay
 * for a luxon object each.
 */
import { DateTime } from 'luxon';

export const PORTAL_ZONE = 'Africa/Casablanca';
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** Date.UTC of wall-clock fields in Casablanca; the replica's one time representation. */
export type LocalMs = number;

export function localMs(year: number, month: number, day: number, hour = 0, minute = 0): LocalMs {
  return Date.UTC(year, month - 1, day, hour, minute);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

const offsetByDay = new Map<number, number>();

/**
 * Offset (minutes east of UTC) in force at this wall-clock time. Switches happen at 02:00 or
 * 03:00; the replica never generates times before 07:00, so the noon offset of the day is
 * the right one except for those hours, which ask luxon directly.
 */
export function offsetMinutes(lm: LocalMs): number {
  const d = new Date(lm);
  if (d.getUTCHours() < 4) {
    return DateTime.fromObject(
      { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() },
      { zone: PORTAL_ZONE },
    ).offset;
  }
  const day = Math.floor(lm / DAY_MS);
  let off = offsetByDay.get(day);
  if (off === undefined) {
    off = DateTime.fromObject(
      { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 12 },
      { zone: PORTAL_ZONE },
    ).offset;
    offsetByDay.set(day, off);
  }
  return off;
}

/** The real instant (epoch ms) of a Casablanca wall-clock time. */
export function instantOf(lm: LocalMs): number {
  return lm - offsetMinutes(lm) * MINUTE_MS;
}

/** The Casablanca wall-clock time of a real instant. */
export function localOfInstant(epochMs: number): LocalMs {
  const dt = DateTime.fromMillis(epochMs, { zone: PORTAL_ZONE });
  return localMs(dt.year, dt.month, dt.day, dt.hour, dt.minute) + dt.second * 1000;
}

/** `dd/mm/yyyy`, as lists print "Publié le". */
export function frDate(lm: LocalMs): string {
  const d = new Date(lm);
  return `${pad2(d.getUTCDate())}/${pad2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

/** `HH:MM`. */
export function frTime(lm: LocalMs): string {
  const d = new Date(lm);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** `dd/mm/yyyy HH:MM`, as the detail page prints deadlines. */
export function frDateTime(lm: LocalMs): string {
  return `${frDate(lm)} ${frTime(lm)}`;
}

/** `YYYY-MM-DD`, a calendar day without zone (the parsers' `publishedOn`). */
export function isoDay(lm: LocalMs): string {
  const d = new Date(lm);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** ISO-8601 with the offset in force, as the parsers give it: `2025-10-30T11:00:00+01:00`. */
export function isoDateTime(lm: LocalMs): string {
  const off = offsetMinutes(lm);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const d = new Date(lm);
  return `${isoDay(lm)}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Midnight of the day holding `lm`. */
export function startOfDay(lm: LocalMs): LocalMs {
  return Math.floor(lm / DAY_MS) * DAY_MS;
}

export function addDays(lm: LocalMs, days: number): LocalMs {
  return lm + days * DAY_MS;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(lm: LocalMs): number {
  // 1970-01-01 was a Thursday.
  return (((Math.floor(lm / DAY_MS) + 4) % 7) + 7) % 7;
}

/** `dd/mm/yyyy` (the legacy form's format) → midnight, or null when it is not a real date. */
export function parseFrDay(text: string | undefined | null): LocalMs | null {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text ?? '');
  if (!m) return null;
  return checkedDay(Number(m[3]), Number(m[2]), Number(m[1]));
}

/** `YYYY-MM-DD` (the /bdc/ forms' format) → midnight, or null. */
export function parseIsoDay(text: string | undefined | null): LocalMs | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text ?? '');
  if (!m) return null;
  return checkedDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** `dd/mm/yyyy HH:MM` → local ms, or null. */
export function parseFrDateTime(text: string): LocalMs | null {
  const m = /^\s*(\d{2})\/(\d{2})\/(\d{4})\s+(\d{2}):(\d{2})\s*$/.exec(text);
  if (!m) return null;
  const day = checkedDay(Number(m[3]), Number(m[2]), Number(m[1]));
  if (day === null) return null;
  return day + (Number(m[4]) * 60 + Number(m[5])) * MINUTE_MS;
}

function checkedDay(year: number, month: number, day: number): LocalMs | null {
  const lm = localMs(year, month, day);
  const d = new Date(lm);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() + 1 !== month || d.getUTCDate() !== day) return null;
  return lm;
}
