import { useTranslation } from 'react-i18next';
import { Link, useLocation, type Location } from 'react-router';
import { backgroundOf } from '../lib/background';
import { tagKey } from '../lib/tags';

/**
 * Where a tag leads: the challenge list filtered by it. On the list (or a modal over it) the
 * other filters stay; from anywhere else it is the list with just this tag.
 */
function tagHref(location: Location, tag: string): string {
  const base = backgroundOf(location) ?? location;
  const params = new URLSearchParams(base.pathname === '/' ? base.search : '');
  params.set('tag', tag);
  return `/?${params.toString()}`;
}

/** A challenge's tags as links that filter the list; the active filter's tag is marked. */
export function TagList({ tags, className }: { tags: string[]; className?: string }) {
  const { t } = useTranslation();
  const location = useLocation();
  if (tags.length === 0) return null;
  const base = backgroundOf(location) ?? location;
  const active = base.pathname === '/' ? new URLSearchParams(base.search).get('tag') : null;
  return (
    <ul className={className ? `tags ${className}` : 'tags'} aria-label={t('tags.label')}>
      {tags.map((tag) => {
        const current = active !== null && tagKey(active.replace(/^#/, '')) === tagKey(tag);
        return (
          <li key={tagKey(tag)}>
            <Link
              to={tagHref(location, tag)}
              className={current ? 'tag tag--active' : 'tag'}
              aria-current={current ? 'true' : undefined}
              title={t('tags.filterBy', { tag })}
            >
              #{tag}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
