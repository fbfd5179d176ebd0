import { useTranslation } from 'react-i18next';
import type { CameraState } from '../../realtime/room';

/** Why there is no camera, when it was refused or is missing. */
export function CameraNote({ camera }: { camera: CameraState }) {
  const { t } = useTranslation();
  if (camera !== 'denied' && camera !== 'unavailable') return null;
  return (
    <p className="error-note room__camera-note" role="alert">
      {camera === 'denied' ? t('live.cameraDenied') : t('live.cameraUnavailable')}
    </p>
  );
}
