import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

const root = dirname(fileURLToPath(import.meta.url));
const api = process.env.API_URL ?? "http://127.0.0.1:3000";

/** Browser navigations to /status/<slug> are the client's own page; the rest goes to the API. */
const statusProxy: ProxyOptions = {
  target: api,
  bypass: (req) => (req.headers.accept?.includes("text/html") ? "/index.html" : undefined),
};

export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    proxy: {
      "/graphql": api,
      "/api": api,
      "/status": statusProxy,
    },
  },
});
