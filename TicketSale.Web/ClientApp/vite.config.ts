import { defineConfig } from "vitest/config";

// Built into the Web project's wwwroot: index.html (served with no-cache) and assets/ with content-hashed names
// (served as immutable for a year), so a flash sale's herd fetches the page once and the assets from caches.
export default defineConfig({
  build: {
    outDir: "../wwwroot",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
});
