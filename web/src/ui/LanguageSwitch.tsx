// The language select shown on every page.

import type { JSX } from 'preact';
import { getLang, LANG_NAMES, LANGS, setLang, t, type Lang } from '../i18n';
import { storage } from '../storage';
import { GlobeIcon } from './icons';

export function LanguageSwitch(): JSX.Element {
  return (
    <label class="lang-switch">
      <GlobeIcon />
      <span class="lang-label">{t('app.language')}</span>
      <select
        value={getLang()}
        onChange={(e) => {
          const lang = e.currentTarget.value as Lang;
          storage.setLang(lang);
          setLang(lang);
        }}
      >
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
