/** The English/Japanese switch in the page's header. */
import type { Lang } from './i18n.js';

export function LanguageSwitch({ lang, label, onChange }: { lang: Lang; label: string; onChange: (lang: Lang) => void }) {
  return (
    <label class="lang">
      <span class="visually-hidden">{label}</span>
      <select value={lang} onChange={(event) => onChange(event.currentTarget.value as Lang)} data-testid="lang">
        <option value="en">English</option>
        <option value="ja">日本語</option>
      </select>
    </label>
  );
}
