import { defineConfig, type ProxyOptions } from 'vite';
import preact from '@preact/preset-vite';

// During `npm run dev` / `npm run preview`, API calls are proxied to a running
// Cosmiv server (default http://127.0.0.1:8080, override with COSMIV_API).
const api = process.env.COSMIV_API || 'http://127.0.0.1:8080';
// The gateway WebSocket has its own listener (COSMIV_GATEWAY, default :8081);
// GET /api/v2/gateway tells the client where, so the dev server must answer
// that itself to keep the socket on its own origin (and the CSP's 'self').
const gatewayTarget = process.env.COSMIV_GATEWAY || api.replace(/:\d+$/, ':8081');
const proxy: Record<string, ProxyOptions> = {
  // GET /api/v2/gateway (HTTP port): point the client back at this dev server.
  '^/api/v2/gateway$': {
    target: api,
    changeOrigin: false,
    selfHandleResponse: true,
    configure: (p) => {
      p.on('proxyRes', (res, req, out) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8');
          try {
            const info = JSON.parse(body) as { url?: string };
            if (info.url) info.url = `ws://${req.headers.host}/api/v2/gateway`;
            body = JSON.stringify(info);
          } catch {
            /* not JSON: pass it on */
          }
          out.writeHead(res.statusCode || 502, { 'content-type': res.headers['content-type'] || 'application/json' });
          out.end(body);
        });
      });
    },
  },
  // The WebSocket upgrade on the same path goes to the gateway listener.
  '/api/v2/gateway': { target: gatewayTarget, ws: true, changeOrigin: false },
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
