import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served by `paygraph serve --dashboard` under /dashboard/ (gateway/dashboard.py).
export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false },
  server: { port: 5173, strictPort: true },
});
