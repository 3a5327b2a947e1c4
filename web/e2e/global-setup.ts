import { spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
export const STATE_FILE = join(tmpdir(), "sodam-web-e2e.json");
export const ADMIN_PASSWORD = "e2e-admin-password-1";

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => ok(port));
    });
  });
}

async function waitReady(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`sodam serve did not become ready at ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts a real `sodam serve` on a free port with a throwaway SQLite data directory. */
export default async function globalSetup(): Promise<void> {
  const dist = join(root, "dist", "index.html");
  if (!existsSync(dist)) throw new Error("web/dist is missing: run `npm run build` (make web-build) first");
  const sodam = process.env.SODAM_BIN ?? resolve(root, "../.venv/bin/sodam");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sodam-e2e-"));
  const log = openSync(join(dataDir, "server.log"), "a");
  const child = spawn(sodam, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env: {
      ...process.env,
      SODAM_DATA_DIR: dataDir,
      SODAM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SODAM_WEB_DIR: join(root, "dist"),
    },
    stdio: ["ignore", log, log],
    detached: false,
  });
  const baseURL = `http://127.0.0.1:${port}`;
  writeFileSync(STATE_FILE, JSON.stringify({ pid: child.pid, baseURL, dataDir }));
  process.env.SODAM_E2E_BASE_URL = baseURL;
  await waitReady(baseURL, Date.now() + 60_000);
}
