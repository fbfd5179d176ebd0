import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useChallengeList } from '../api/challenges';
import {
  CATEGORIES,
  SORTS,
  STATUSES,
  type Category,
  type ChallengeFilters,
  type ChallengeSort,
  type ChallengeStatus,
} from '../api/types';
import { CATEGORY_ICONS } from '../lib/categories';
import { ChallengeCard } from '../components/ChallengeCard';
import { InfiniteSentinel } from '../components/InfiniteSentinel';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../components/States';

/** Filters live in the URL so a reload, a shared link and the back button keep them. */
function useFilters(): [ChallengeFilters, (patch: Partial<ChallengeFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = params.get(key);
    return allowed.includes(value as T) ? (value as T) : fallback;
  };
  const filters: ChallengeFilters = {
    q: params.get('q') ?? '',
    category: pick<Category | ''>('category', CATEGORIES, ''),
    status: pick<ChallengeStatus | ''>('status', STATUSES, ''),
    sort: pick<ChallengeSort>('sort', SORTS, 'new'),
  };
  const update = (patch: Partial<ChallengeFilters>) => {
    const next = { ...filters, ...patch };
    const out = new URLSearchParams();
    if (next.q.trim()) out.set('q', next.q.trim());
    if (next.category) out.set('category', next.category);
    if (next.status) out.set('status', next.status);
    if (next.sort !== 'new') out.set('sort', next.sort);
    setParams(out, { replace: true });
  };
  return [filters, update];
}

export function ChallengeListPage() {
  const { t } = useTranslation();
  const [filters, update] = useFilters();

  return (
    <section>
      <div className="page-head">
        <div>
          <h1 className="page-title">{t('list.title')}</h1>
          <p className="page-lead">{t('list.lead')}</p>
        </div>
        <Link to="/challenges/new" className="btn btn--primary">
          {t('list.create')}
        </Link>
      </div>

      <div className="filters">
        <form
          role="search"
          className="search"
          onSubmit={(e) => {
            e.preventDefault();
            const q = new FormData(e.currentTarget).get('q');
            update({ q: typeof q === 'string' ? q : '' });
          }}
        >
          <input
            key={filters.q}
            name="q"
            type="search"
            className="input search__input"
            defaultValue={filters.q}
            placeholder={t('list.searchPlaceholder')}
            aria-label={t('list.search')}
            maxLength={100}
            onChange={(e) => {
              if (e.target.value === '' && filters.q) update({ q: '' });
            }}
          />
          <button type="submit" className="btn btn--primary search__button">
            {t('list.search')}
          </button>
        </form>

        <div className="chips" role="group" aria-label={t('list.category')}>
          {(['', ...CATEGORIES] as const).map((c) => (
            <button
              key={c || 'all'}
              type="button"
              className={filters.category === c ? 'chip chip--active' : 'chip'}
              aria-pressed={filters.category === c}
              onClick={() => update({ category: c })}
            >
              {c ? `${CATEGORY_ICONS[c]} ${t(`category.${c}`)}` : t('list.allCategories')}
            </button>
          ))}
        </div>

        <div className="filters__row">
          <label className="select-label">
            <span>{t('list.status')}</span>
            <select
              className="input"
              value={filters.status}
              onChange={(e) => update({ status: e.target.value as ChallengeStatus | '' })}
            >
              <option value="">{t('list.allStatuses')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`status.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="select-label">
            <span>{t('list.sort')}</span>
            <select
              className="input"
              value={filters.sort}
              onChange={(e) => update({ sort: e.target.value as ChallengeSort })}
            >
              {SORTS.map((s) => (
                <option key={s} value={s}>
                  {t(`sort.${s}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>

      <ChallengeResults filters={filters} />
    </section>
  );
}

function ChallengeResults({ filters }: { filters: ChallengeFilters }) {
  const { t } = useTranslation();
  const list = useChallengeList(filters);

  if (list.isPending) return <LoadingState />;
  // A failed next page keeps the pages already shown; only a failed first page replaces them.
  if (!list.data) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;

  const items = list.data.pages.flatMap((p) => p.items);
  if (items.length === 0) {
    const filtered = filters.q || filters.category || filters.status;
    return (
      <EmptyState title={filtered ? t('list.emptyFiltered') : t('list.empty')}>
        <Link to="/challenges/new" className="btn btn--primary">
          {t('list.create')}
        </Link>
      </EmptyState>
    );
  }

  return (
    <>
      <div className="grid">
        {items.map((c) => (
          <ChallengeCard key={c.id} challenge={c} />
        ))}
      </div>
      <InfiniteSentinel
        disabled={!list.hasNextPage || list.isFetchingNextPage || list.isFetchNextPageError}
        onVisible={() => void list.fetchNextPage()}
      />
      <div className="list-end">
        {list.isFetchingNextPage ? (
          <Spinner />
        ) : list.isFetchNextPageError ? (
          <ErrorState error={list.error} onRetry={() => void list.fetchNextPage()} />
        ) : list.hasNextPage ? (
          <button type="button" className="btn btn--ghost" onClick={() => void list.fetchNextPage()}>
            {t('list.more')}
          </button>
        ) : (
          <span className="muted">{t('list.end')}</span>
        )}
      </div>
    </>
  );
}
