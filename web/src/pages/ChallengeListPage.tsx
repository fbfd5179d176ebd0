import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useChallengeList, usePopularTags } from '../api/challenges';
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
import { ChallengeGrid } from '../components/ChallengeGrid';
import { EmptyLinkState, ErrorState, LoadingState } from '../components/States';
import { normalizeTag, tagKey, tagProblem } from '../lib/tags';

/** Filters live in the URL so a reload, a shared link and the back button keep them. */
function useFilters(): [ChallengeFilters, (patch: Partial<ChallengeFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = params.get(key);
    return allowed.includes(value as T) ? (value as T) : fallback;
  };
  const filters: ChallengeFilters = {
    q: params.get('q') ?? '',
    tag: normalizeTag(params.get('tag') ?? ''),
    category: pick<Category | ''>('category', CATEGORIES, ''),
    status: pick<ChallengeStatus | ''>('status', STATUSES, ''),
    sort: pick<ChallengeSort>('sort', SORTS, 'new'),
  };
  const update = (patch: Partial<ChallengeFilters>) => {
    const next = { ...filters, ...patch };
    const out = new URLSearchParams();
    if (next.q.trim()) out.set('q', next.q.trim());
    if (next.tag) out.set('tag', next.tag);
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

        <PopularTags active={filters.tag} onPick={(tag) => update({ tag })} />

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
                <option key={s} value={s} title={s === 'popular' ? t('sort.popularHint') : undefined}>
                  {t(`sort.${s}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
        {(filters.tag || filters.sort === 'popular') && (
          <div className="filters__notes">
            {filters.tag && (
              <span className="filter-tag" data-testid="tag-filter">
                {t('tags.filtering', { tag: filters.tag })}
                <button
                  type="button"
                  className="filter-tag__clear"
                  aria-label={t('tags.clearFilter', { tag: filters.tag })}
                  onClick={() => update({ tag: '' })}
                >
                  ×
                </button>
              </span>
            )}
            {filters.sort === 'popular' && (
              <p className="muted filters__hint" data-testid="popularity-hint">
                <span aria-hidden="true">ⓘ </span>
                {t('sort.popularHint')}
              </p>
            )}
          </div>
        )}
      </div>

      <ChallengeResults filters={filters} />
    </section>
  );
}

/** The most used tags right now; a tap filters by one (again: all). */
function PopularTags({ active, onPick }: { active: string; onPick: (tag: string) => void }) {
  const { t } = useTranslation();
  const popular = usePopularTags();
  const tags = popular.data ?? [];
  if (tags.length === 0) return null;
  return (
    <div className="popular-tags" data-testid="popular-tags">
      <span className="popular-tags__label" id="popular-tags-label">
        {t('tags.popular')}
      </span>
      <ul className="chips popular-tags__list" aria-labelledby="popular-tags-label">
        {tags.map(({ tag, count }) => {
          const on = active !== '' && tagKey(active) === tagKey(tag);
          return (
            <li key={tagKey(tag)}>
              <button
                type="button"
                className={on ? 'chip chip--tag chip--active' : 'chip chip--tag'}
                aria-pressed={on}
                title={t('tags.popularCount', { tag, count })}
                onClick={() => onPick(on ? '' : tag)}
              >
                #{tag} <span className="chip__count">{count}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ChallengeResults({ filters }: { filters: ChallengeFilters }) {
  const { t } = useTranslation();
  // A hand-edited link with a tag the server would refuse: say so instead of asking.
  const badTag = filters.tag !== '' && tagProblem(filters.tag) !== null;
  const list = useChallengeList(badTag ? { ...filters, tag: '' } : filters);

  if (badTag) {
    return (
      <EmptyLinkState title={t('tags.badFilter')} to="/" label={t('tags.showAll')} />
    );
  }

  if (list.isPending) return <LoadingState />;
  // A failed next page keeps the pages already shown; only a failed first page replaces them.
  if (!list.data) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;

  const items = list.data.pages.flatMap((p) => p.items);
  if (items.length === 0) {
    const filtered = filters.q || filters.tag || filters.category || filters.status;
    return (
      <EmptyLinkState
        title={filtered ? t('list.emptyFiltered') : t('list.empty')}
        to="/challenges/new"
        label={t('list.create')}
        primary
      />
    );
  }

  return <ChallengeGrid items={items} list={list} end={<span className="muted">{t('list.end')}</span>} />;
}
