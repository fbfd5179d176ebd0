import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Rust server (`ssgwan serve`) listens on :8080; in development Vite serves the app and
// forwards the API, including the WebSocket at /api/ws, to it.
const apiTarget = process.env.SSGWAN_API_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});
