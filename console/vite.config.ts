/**
 * The operator console's build (`npm run console:build` → console/dist, served by the API at /console/)
 * and dev server (`npm run console:dev`: http://127.0.0.1:5173/console/, API calls proxied to the API on
 * API_PORT, 8090 by default, so the session cookie stays same-origin).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = `http://127.0.0.1:${process.env.API_PORT ?? '8090'}`;

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No chunk above Vite's 500 kB warning since the tabs are lazy (console/src/tabs/index.ts): a new
    // warning means something large joined the first load.
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/api': api, '/health': api },
  },
});
