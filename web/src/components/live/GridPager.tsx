import { useTranslation } from 'react-i18next';

/** Previous/next pages of the video grid (25 tiles a page), with where you are. */
export function GridPager({ page, pageCount, onPage }: { page: number; pageCount: number; onPage: (page: number) => void }) {
  const { t } = useTranslation();
  if (pageCount <= 1) return null;
  return (
    <nav className="pager" aria-label={t('live.pages.nav')} data-testid="grid-pager">
      <button type="button" className="btn btn--small btn--ghost" onClick={() => onPage(page - 1)} disabled={page === 0} data-testid="grid-prev">
        ‹ {t('live.pages.prev')}
      </button>
      <span className="pager__label" aria-live="polite" data-testid="grid-page" data-page={page}>
        {t('live.pages.label', { page: page + 1, count: pageCount })}
      </span>
      <button
        type="button"
        className="btn btn--small btn--ghost"
        onClick={() => onPage(page + 1)}
        disabled={page >= pageCount - 1}
        data-testid="grid-next"
      >
        {t('live.pages.next')} ›
      </button>
    </nav>
  );
}
