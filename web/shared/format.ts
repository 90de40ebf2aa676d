/** Numbers, sizes, durations and times in the reader's locale (the page's language). */
import type { Lang } from './i18n.js';

export const LOCALES: Record<Lang, string> = { en: 'en-GB', ja: 'ja-JP' };

export function formatNumber(lang: Lang, value: number, digits = 0): string {
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

export function formatBytes(lang: Lang, bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(lang, value, unit === 0 ? 0 : 1)} ${units[unit] ?? ''}`;
}

/** 3 d 4 h, 5 min 3 s, in the reader's language. */
export function formatDuration(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: Array<[number, string, string]> = [
    [Math.floor(s / 86_400), 'd', '日'],
    [Math.floor((s % 86_400) / 3600), 'h', '時間'],
    [Math.floor((s % 3600) / 60), 'min', '分'],
    [s % 60, 's', '秒'],
  ];
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  if (shown.length === 0) return lang === 'ja' ? '0秒' : '0 s';
  return shown.map(([n, en, ja]) => (lang === 'ja' ? `${n}${ja}` : `${n} ${en}`)).join(lang === 'ja' ? '' : ' ');
}

/** The zone if this browser knows it; else undefined, the viewer's own (better than a page that fails to draw). */
export function knownTimeZone(timeZone: string | undefined): string | undefined {
  if (timeZone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
}

/** The calendar day of an instant in a zone, for "is it today there". */
function dayIn(date: Date, timeZone: string | undefined): string {
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', ...(timeZone === undefined ? {} : { timeZone }) }).format(date);
}

/** A time of day (and date when not today there) in the given IANA time zone; the viewer's own when absent or unknown. */
export function formatTime(lang: Lang, iso: string | null, zone?: string): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  const timeZone = knownTimeZone(zone);
  const today = dayIn(new Date(), timeZone) === dayIn(date, timeZone);
  return new Intl.DateTimeFormat(LOCALES[lang], {
    ...(today ? {} : { year: 'numeric', month: '2-digit', day: '2-digit' }),
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(date);
}

/** Seconds since an instant, for "3 s ago". */
export function secondsSince(iso: string, now = Date.now()): number {
  return Math.max(0, (now - Date.parse(iso)) / 1000);
}
