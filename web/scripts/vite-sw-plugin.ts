import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";

/**
 * Emits `sw.js` at build time: the service-worker template with the list of built files to
 * precache (the app shell) and a version derived from them, so a new build replaces the old cache.
 */
export function serviceWorkerPlugin(): Plugin {
  const templatePath = fileURLToPath(new URL("./sw.template.js", import.meta.url));
  return {
    name: "sodam-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((name) => !name.endsWith(".map"))
        .map((name) => `/${name}`);
      const precache = ["/", ...files, "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png"];
      const version = createHash("sha256").update(files.sort().join("\n")).digest("hex").slice(0, 12);
      const source = readFileSync(templatePath, "utf8")
        .replace("__SODAM_PRECACHE__", JSON.stringify(precache))
        .replace("__SODAM_VERSION__", JSON.stringify(version));
      this.emitFile({ type: "asset", fileName: "sw.js", source });
    },
  };
}
