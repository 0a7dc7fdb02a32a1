/**
 * The console's build: a React app bundled by Vite into dist/console/ (scripts/build.mjs runs it on
 * `npm install` and `npm run build`). Everything it needs is bundled: nothing loads from elsewhere
 * at run time, so the console works offline.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  // No .env files, no public/ folder: the console reads nothing at build time but its sources.
  envDir: false,
  publicDir: false,
  build: {
    outDir: path.join(here, "..", "dist", "console"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  logLevel: "warn",
});
