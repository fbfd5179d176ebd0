import { useTranslation } from 'react-i18next';
import { LANGUAGES } from '../i18n';

const LABELS: Record<(typeof LANGUAGES)[number], string> = { ko: '한국어', en: 'English' };

export function LanguageSwitch() {
  const { i18n, t } = useTranslation();
  return (
    <div className="lang" role="group" aria-label={t('nav.language')}>
      {LANGUAGES.map((lng) => (
        <button
          key={lng}
          type="button"
          lang={lng}
          className={i18n.language === lng ? 'lang__option lang__option--active' : 'lang__option'}
          aria-pressed={i18n.language === lng}
          onClick={() => void i18n.changeLanguage(lng)}
        >
          {LABELS[lng]}
        </button>
      ))}
    </div>
  );
}
