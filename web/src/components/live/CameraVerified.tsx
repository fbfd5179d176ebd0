import { useTranslation } from 'react-i18next';
import type { MediaLink, Verification } from '../../realtime/room';

/**
 * Whether the media server counts this tab's camera now, and why not when it does not: only
 * verified time on camera counts for attendance (docs/protocol.md, `camera`).
 */
export function CameraVerified({
  verification,
  link,
  settling,
  cameraOn,
}: {
  verification: Verification | null;
  link: MediaLink;
  /** The media session is new (sfu.ts `RemoteMedia.settling`). */
  settling: boolean;
  cameraOn: boolean;
}) {
  const { t } = useTranslation();
  const verified = verification?.verified === true;
  // Before the first verdict, and while a new media connection comes up, "no video" means "not yet".
  const pending =
    verification === null || (!verified && cameraOn && verification.reason === 'noVideo' && (link !== 'connected' || settling));
  const state = verified ? 'verified' : pending ? 'pending' : 'unverified';
  const reason = verified || pending ? null : (verification?.reason ?? 'noVideo');
  return (
    <div
      className={`verified verified--${state}`}
      role="status"
      data-testid="camera-verified"
      data-verified={verified ? 'true' : 'false'}
      data-reason={reason ?? ''}
    >
      <span className="verified__dot" aria-hidden="true" />
      <span className="verified__text">
        <strong className="verified__title">
          {verified ? t('live.verify.verified') : pending ? t('live.verify.pending') : t('live.verify.notVerified')}
        </strong>
        {reason && <span className="verified__reason">{!cameraOn ? t('live.verify.cameraOff') : t(`live.verify.reasons.${reason}`)}</span>}
        {!verified && !pending && <span className="verified__hint muted">{t('live.verify.hint')}</span>}
      </span>
    </div>
  );
}
