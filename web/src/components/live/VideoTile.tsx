import { useEffect, useRef, useState, type ReactNode } from 'react';
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
  /** Own tile: the camera is on. Remote tiles: the media server verified their video. */
  camera: boolean;
  mic: boolean;
  /** For remote tiles: how the media connection to the server is doing. */
  peerState?: 'connecting' | 'connected' | 'failed';
  /** A host stopped this member's video (nobody receives it). */
  videoStopped?: boolean;
  /** A host stopped this member's audio. */
  audioStopped?: boolean;
  /** The host's controls for this member, shown on the tile. */
  hostActions?: ReactNode;
}

/**
 * One person's tile: video only, always muted (the room's sound plays in RoomAudio, for the
 * members on every page). A remote video shows once its frames arrive and the media server
 * verified it; until then, or when it is not verified, the avatar and why.
 */
export function VideoTile({
  userId,
  nickname,
  profileImage,
  stream,
  self = false,
  camera,
  mic,
  peerState,
  videoStopped = false,
  audioStopped = false,
  hostActions,
}: VideoTileProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLVideoElement>(null);
  const [hasFrames, setHasFrames] = useState(false);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    if (!stream) return;
    void video.play().catch(() => undefined);
  }, [stream]);

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

  const showVideo = Boolean(stream) && camera && (self || hasFrames) && (self || !videoStopped);
  const label = self ? t('live.you', { nickname }) : nickname;

  return (
    <figure
      className={self ? 'tile-video tile-video--self' : 'tile-video'}
      data-user-id={userId}
      data-testid={self ? 'local-tile' : 'remote-tile'}
      data-verified={self ? undefined : camera ? 'true' : 'false'}
      data-video-stopped={videoStopped ? 'true' : undefined}
    >
      <video
        ref={ref}
        className={showVideo ? 'tile-video__video' : 'tile-video__video tile-video__video--hidden'}
        autoPlay
        playsInline
        muted
        data-remote={self ? undefined : 'true'}
        data-user-id={userId}
        aria-label={label}
      />
      {!showVideo && (
        <div className="tile-video__placeholder">
          <Avatar user={{ nickname, profileImage }} size={64} />
          <span className="tile-video__state">
            {videoStopped && !self
              ? t('live.host.videoStoppedTile')
              : !camera
              ? !self && hasFrames
                ? t('live.notVerifiedTile')
                : t('live.cameraOff')
              : peerState === 'failed'
                ? t('live.peerFailed')
                : self
                  ? t('live.cameraStarting')
                  : t('live.peerConnecting')}
          </span>
        </div>
      )}
      <figcaption className="tile-video__name">
        {(!mic || audioStopped) && (
          <span className="tile-video__mic" role="img" aria-label={t('live.micOff')} title={t('live.micOff')}>
            <MicOffIcon />
          </span>
        )}
        <span className="tile-video__nickname">{label}</span>
      </figcaption>
      {hostActions}
    </figure>
  );
}
