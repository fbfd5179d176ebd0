import type { UserSummary } from '../api/types';

interface AvatarProps {
  user: Pick<UserSummary, 'nickname' | 'profileImage'>;
  size?: number;
}

export function Avatar({ user, size = 40 }: AvatarProps) {
  const style = { width: size, height: size, fontSize: size * 0.42 };
  if (user.profileImage) {
    return <img className="avatar" src={user.profileImage} alt="" style={style} loading="lazy" />;
  }
  return (
    <span className="avatar avatar--initial" style={style} aria-hidden="true">
      {[...user.nickname][0]?.toUpperCase() ?? '?'}
    </span>
  );
}
