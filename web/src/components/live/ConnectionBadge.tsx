import { useTranslation } from 'react-i18next';
import type { ConnectionState } from '../../realtime/socket';

/** The socket's state in the room's header. */
export function ConnectionBadge({ state }: { state: ConnectionState }) {
  const { t } = useTranslation();
  const tone = state === 'live' ? 'live' : state === 'reconnecting' || state === 'signedOut' || state === 'tooManySockets' ? 'warn' : 'wait';
  return (
    <span className={`conn conn--${tone}`} role="status" data-testid="connection" data-state={state}>
      <span className="conn__dot" aria-hidden="true" />
      {t(`live.connection.${state}`)}
    </span>
  );
}
