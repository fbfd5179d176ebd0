import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Challenge } from '../api/types';
import { ChallengeCard } from './ChallengeCard';
import { InfiniteSentinel } from './InfiniteSentinel';
import { ErrorState, Spinner } from './States';

/** What the grid needs of an infinite challenge query (`useChallengeList`, `useWishes`). */
interface ChallengePages {
  error: unknown;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/**
 * A page of challenge cards that loads the next page when scrolled near (or on "more"), with a
 * spinner or a retry below while it does; `end` stands below the last page, when given.
 */
export function ChallengeGrid({ items, list, end }: { items: Challenge[]; list: ChallengePages; end?: ReactNode }) {
  const { t } = useTranslation();
  const more = () => void list.fetchNextPage();
  const footer = list.isFetchingNextPage ? (
    <Spinner />
  ) : list.isFetchNextPageError ? (
    <ErrorState error={list.error} onRetry={more} />
  ) : list.hasNextPage ? (
    <button type="button" className="btn btn--ghost" onClick={more}>
      {t('list.more')}
    </button>
  ) : (
    end
  );
  return (
    <>
      <div className="grid">
        {items.map((c) => (
          <ChallengeCard key={c.id} challenge={c} />
        ))}
      </div>
      <InfiniteSentinel
        disabled={!list.hasNextPage || list.isFetchingNextPage || list.isFetchNextPageError}
        onVisible={more}
      />
      {footer !== undefined && <div className="list-end">{footer}</div>}
    </>
  );
}
