import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { serviceWorkerPlugin } from "./scripts/vite-sw-plugin.ts";

// `npm run dev` proxies the API and the WebSocket to a running `sodam serve`
// (SODAM_DEV_SERVER, default http://127.0.0.1:8080) and reloads the client on every change.
const target = process.env.SODAM_DEV_SERVER ?? "http://127.0.0.1:8080";

export const config = defineConfig({
  plugins: [react(), serviceWorkerPlugin()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: true,
    chunkSizeWarningLimit: 800,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: false,
    proxy: {
      "/api": { target, changeOrigin: false, ws: true },
      "/readyz": { target },
      "/healthz": { target },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
    // Unit tests drive the browser build of tus-js-client (what ships), over a fake HTTP stack.
    alias: { "tus-js-client": fileURLToPath(new URL("./node_modules/tus-js-client/lib.esm/browser/index.js", import.meta.url)) },
  },
});

export default config;
