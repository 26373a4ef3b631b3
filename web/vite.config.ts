import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// During `npm run dev` / `npm run preview`, API calls are proxied to a running
// Cosmiv server (default http://127.0.0.1:8080, override with COSMIV_API).
const api = process.env.COSMIV_API || 'http://127.0.0.1:8080';
const proxy = {
  '/api': { target: api, changeOrigin: false },
  '/healthz': { target: api, changeOrigin: false },
};

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    // Keep every asset a real file under /assets/ (no data: URIs).
    assetsInlineLimit: 0,
    emptyOutDir: true,
  },
  server: { proxy },
  preview: { proxy },
});
