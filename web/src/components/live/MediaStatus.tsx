import { useTranslation } from 'react-i18next';
import type { MediaLink } from '../../realtime/room';

/** The media connection to the server, when it is not simply up. */
export function MediaStatus({ link }: { link: MediaLink }) {
  const { t } = useTranslation();
  if (link === 'connected' || link === 'idle') return null;
  return (
    <p className={link === 'unavailable' ? 'error-note room__media' : 'muted room__media'} role="status" data-testid="media-link" data-link={link}>
      {t(`live.media.${link}`)}
    </p>
  );
}
