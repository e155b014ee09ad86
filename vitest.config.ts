import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["db/__tests__/**/*.test.ts", "server/__tests__/**/*.test.ts", "client/**/*.test.{ts,tsx}"],
    exclude: ["**/node_modules/**", "client/dist/**"],
    setupFiles: ["server/src/preload.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
