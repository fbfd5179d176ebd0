import { Navigate, Outlet, useLocation } from 'react-router';
import { useMe } from '../api/auth';
import { ErrorState, LoadingState } from './States';

/** Pages under this route need a signed-in user; anyone else goes to /login and comes back after. */
export function RequireAuth() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <LoadingState />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  if (!me.data) return <Navigate to="/login" replace state={{ from: location }} />;
  return <Outlet />;
}
