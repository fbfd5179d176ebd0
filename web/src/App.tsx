import { lazy, Suspense } from 'react';
import { Route, Routes, useLocation } from 'react-router';
import { Layout } from './components/Layout';
import { backgroundOf } from './lib/background';
import { RequireAuth } from './components/RequireAuth';
import { LoadingState } from './components/States';
import { ChallengeListPage } from './pages/ChallengeListPage';
import { ChallengeModal, ChallengePage } from './pages/ChallengeDetailPage';
import { CreateChallengePage, EditChallengePage } from './pages/ChallengeFormPage';
import { LoginPage } from './pages/LoginPage';
import { AdminPage } from './pages/AdminPage';
import { MePage } from './pages/MePage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RankingsPage } from './pages/RankingsPage';
import { UserProfilePage } from './pages/UserProfilePage';

// The live room (WebSocket client, media connection, room UI) is its own chunk, fetched on entering.
const LiveRoomPage = lazy(() => import('./pages/LiveRoomPage'));

export function App() {
  const location = useLocation();
  // A challenge opened from a list keeps the list rendered underneath and shows as a modal;
  // the same URL opened directly (reload in a new tab, shared link) is a full page.
  const background = backgroundOf(location);

  return (
    <>
      <Routes location={background ?? location}>
        <Route element={<Layout />}>
          <Route index element={<ChallengeListPage />} />
          <Route path="login" element={<LoginPage />} />
          <Route path="challenges/:id" element={<ChallengePage />} />
          <Route path="rankings" element={<RankingsPage />} />
          <Route path="users/:id" element={<UserProfilePage />} />
          <Route element={<RequireAuth />}>
            <Route path="challenges/new" element={<CreateChallengePage />} />
            <Route path="challenges/:id/edit" element={<EditChallengePage />} />
            <Route
              path="challenges/:id/live"
              element={
                <Suspense fallback={<LoadingState />}>
                  <LiveRoomPage />
                </Suspense>
              }
            />
            <Route path="me" element={<MePage />} />
            <Route path="admin" element={<AdminPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
      {background && (
        <Routes>
          <Route path="challenges/:id" element={<ChallengeModal />} />
        </Routes>
      )}
    </>
  );
}
