/**
 * English and Japanese for the pages: the browser's languages choose (they are what it sends as
 * Accept-Language), a switch on the page overrides and is remembered in localStorage.
 */
export type Lang = 'en' | 'ja';

const STORAGE_KEY = 'echolake.lang';

export function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'ja') return saved;
  const preferred = navigator.languages.find((tag) => /^(en|ja)\b/i.test(tag));
  return preferred?.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export function rememberLang(lang: Lang): void {
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
}

/** A message table: every key in English and Japanese; `{name}` placeholders are filled by `t`. */
export type Messages<K extends string> = Record<Lang, Record<K, string>>;

export function translator<K extends string>(messages: Messages<K>, lang: Lang): (key: K, values?: Record<string, string | number>) => string {
  return (key, values) => messages[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(values?.[name] ?? `{${name}}`));
}
