import { Outlet } from 'react-router';
import { NavBar } from './NavBar';

export function Layout() {
  return (
    <div className="app">
      <NavBar />
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}
