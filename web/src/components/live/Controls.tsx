import { useTranslation } from 'react-i18next';
import type { LocalMediaState } from '../../realtime/room';
import { CameraIcon, LeaveIcon, MicIcon, MicOffIcon } from './icons';

interface ControlsProps {
  local: LocalMediaState;
  onToggleCamera: () => void;
  onToggleMic: () => void;
  onLeave: () => void;
}

/** Camera, microphone and leave buttons under the video grid. */
export function Controls({ local, onToggleCamera, onToggleMic, onLeave }: ControlsProps) {
  const { t } = useTranslation();
  const { camera, cameraOn, micOn, hasMic } = local;
  const cameraBroken = camera === 'denied' || camera === 'unavailable';
  const cameraLabel = cameraBroken ? t('live.retryCamera') : cameraOn ? t('live.turnCameraOff') : t('live.turnCameraOn');
  const micLabel = !hasMic ? t('live.noMic') : micOn ? t('live.muteMic') : t('live.unmuteMic');

  return (
    <div className="controls" role="toolbar" aria-label={t('live.controls')}>
      <button
        type="button"
        className={cameraOn ? 'control control--on' : 'control control--off'}
        onClick={onToggleCamera}
        disabled={camera === 'starting'}
        aria-pressed={cameraBroken ? undefined : cameraOn}
        aria-label={cameraLabel}
        title={cameraLabel}
        data-testid="toggle-camera"
      >
        <CameraIcon off={!cameraOn} />
        <span className="control__label">{t('live.camera')}</span>
      </button>
      <button
        type="button"
        className={micOn ? 'control control--on' : 'control control--off'}
        onClick={onToggleMic}
        disabled={!hasMic}
        aria-pressed={hasMic ? micOn : undefined}
        aria-label={micLabel}
        title={micLabel}
        data-testid="toggle-mic"
      >
        {micOn ? <MicIcon /> : <MicOffIcon size={22} />}
        <span className="control__label">{t('live.mic')}</span>
      </button>
      <button type="button" className="control control--leave" onClick={onLeave} aria-label={t('live.leave')} title={t('live.leave')}>
        <LeaveIcon />
        <span className="control__label">{t('live.leave')}</span>
      </button>
    </div>
  );
}
