import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Avatar } from '../Avatar';
import { MicOffIcon } from './icons';

interface VideoTileProps {
  userId: number;
  nickname: string;
  profileImage: string | null;
  stream: MediaStream | null;
  /** The local preview: muted, mirrored. */
  self?: boolean;
  camera: boolean;
  mic: boolean;
  /** For remote tiles: how the connection to them is doing. */
  peerState?: 'connecting' | 'connected' | 'failed';
}

/**
 * One person's tile. The remote video plays with sound when the browser allows it; when the
 * autoplay policy refuses sound before any click, it plays muted and offers a button to unmute.
 */
export function VideoTile({ userId, nickname, profileImage, stream, self = false, camera, mic, peerState }: VideoTileProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLVideoElement>(null);
  const [blockedSound, setBlockedSound] = useState(false);
  const [hasFrames, setHasFrames] = useState(false);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    if (!stream) return;
    let cancelled = false;
    const play = async () => {
      try {
        await video.play();
      } catch (err) {
        if (cancelled || self || !(err instanceof DOMException) || err.name !== 'NotAllowedError') return;
        video.muted = true;
        setBlockedSound(true);
        await video.play().catch(() => undefined);
      }
    };
    void play();
    return () => {
      cancelled = true;
    };
  }, [stream, self]);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    const onSize = () => setHasFrames(video.videoWidth > 0);
    video.addEventListener('loadedmetadata', onSize);
    video.addEventListener('resize', onSize);
    video.addEventListener('emptied', onSize);
    return () => {
      video.removeEventListener('loadedmetadata', onSize);
      video.removeEventListener('resize', onSize);
      video.removeEventListener('emptied', onSize);
    };
  }, []);

  const unmute = () => {
    const video = ref.current;
    if (!video) return;
    video.muted = false;
    setBlockedSound(false);
    void video.play().catch(() => {
      video.muted = true;
      setBlockedSound(true);
    });
  };

  const showVideo = Boolean(stream) && camera && (self || hasFrames);
  const label = self ? t('live.you', { nickname }) : nickname;

  return (
    <figure
      className={self ? 'tile-video tile-video--self' : 'tile-video'}
      data-user-id={userId}
      data-testid={self ? 'local-tile' : 'remote-tile'}
    >
      <video
        ref={ref}
        className={showVideo ? 'tile-video__video' : 'tile-video__video tile-video__video--hidden'}
        autoPlay
        playsInline
        muted={self}
        data-remote={self ? undefined : 'true'}
        data-user-id={userId}
        aria-label={label}
      />
      {!showVideo && (
        <div className="tile-video__placeholder">
          <Avatar user={{ nickname, profileImage }} size={64} />
          <span className="tile-video__state">
            {!camera
              ? t('live.cameraOff')
              : peerState === 'failed'
                ? t('live.peerFailed')
                : self
                  ? t('live.cameraStarting')
                  : t('live.peerConnecting')}
          </span>
        </div>
      )}
      <figcaption className="tile-video__name">
        {!mic && (
          <span className="tile-video__mic" role="img" aria-label={t('live.micOff')} title={t('live.micOff')}>
            <MicOffIcon />
          </span>
        )}
        <span className="tile-video__nickname">{label}</span>
      </figcaption>
      {blockedSound && (
        <button type="button" className="tile-video__unmute btn btn--small btn--ghost" onClick={unmute}>
          🔈 {t('live.unmute')}
        </button>
      )}
    </figure>
  );
}
