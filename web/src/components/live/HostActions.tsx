import { useTranslation } from 'react-i18next';
import { useRemoveMember, useSetMemberMedia } from '../../api/moderation';
import { errorText } from '../../api/client';

interface HostActionsProps {
  challengeId: number;
  userId: number;
  nickname: string;
  videoStopped: boolean;
  audioStopped: boolean;
}

/**
 * A host's controls on a member's tile: stop (or allow again) their video or audio, which the
 * media server enforces for everyone, and remove them from the challenge.
 */
export function HostActions({ challengeId, userId, nickname, videoStopped, audioStopped }: HostActionsProps) {
  const { t } = useTranslation();
  const media = useSetMemberMedia(challengeId);
  const remove = useRemoveMember(challengeId);
  const busy = media.isPending || remove.isPending;
  const error = media.error ?? remove.error;
  return (
    <div className="tile-video__host" role="group" aria-label={t('live.host.controls', { nickname })}>
      <button
        type="button"
        className="btn btn--ghost btn--small"
        data-testid="host-video"
        disabled={busy}
        onClick={() => media.mutate({ userId, videoStopped: !videoStopped })}
      >
        {videoStopped ? t('live.host.allowVideo') : t('live.host.stopVideo')}
      </button>
      <button
        type="button"
        className="btn btn--ghost btn--small"
        data-testid="host-audio"
        disabled={busy}
        onClick={() => media.mutate({ userId, audioStopped: !audioStopped })}
      >
        {audioStopped ? t('live.host.allowAudio') : t('live.host.stopAudio')}
      </button>
      <button
        type="button"
        className="btn btn--ghost btn--small btn--danger"
        data-testid="host-remove"
        disabled={busy}
        onClick={() => {
          if (window.confirm(t('live.host.confirmRemove', { nickname }))) remove.mutate(userId);
        }}
      >
        {t('live.host.remove')}
      </button>
      {error && (
        <span className="tile-video__host-error" role="alert">
          {errorText(error)}
        </span>
      )}
    </div>
  );
}
