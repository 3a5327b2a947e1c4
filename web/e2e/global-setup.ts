import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, mkdtempSync, openSync, writeFileSync, existsSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
// One state file per checkout: runs in other worktrees on the same machine must not stop this
// run's server (teardown kills the pid it finds here).
const checkout = createHash("sha256").update(root).digest("hex").slice(0, 12);
export const STATE_FILE = join(tmpdir(), `sodam-web-e2e-${checkout}.json`);
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

/** The standard antivirus test file, in two halves so no scanner flags this source file. */
export function eicarTestString(): string {
  return "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-" + "FILE!$H+H*";
}

/** Whether clamd answers PING on its unix socket. */
function pings(socketPath: string): Promise<boolean> {
  return new Promise((ok) => {
    const socket = createConnection(socketPath);
    let answer = "";
    const done = (value: boolean) => {
      socket.destroy();
      ok(value);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      answer += chunk.toString("ascii");
      if (answer.includes("PONG")) done(true);
    });
    socket.once("connect", () => socket.write("zPING\0"));
  });
}

function clamdBinary(): string {
  const path = process.env.SODAM_CLAMD ?? "/usr/sbin/clamd";
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new Error(`No clamd at ${path}: install clamav-daemon (make deps-system) or set SODAM_CLAMD`);
  }
}

/**
 * A real clamd, so files in the browser tests are scanned as in production (pending, then clean,
 * and the recipient may download only then). freshclam cannot download signatures here and clamd
 * will not start without any, so it gets one body signature for the EICAR test string (built from
 * two halves, as tests/support/clamd.py does), and the limits docs/media.md recommends for 300 MB.
 */
async function startClamd(dir: string): Promise<{ pid: number; url: string }> {
  const eicar = eicarTestString();
  const db = join(dir, "db");
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, "test.ndb"), `Test.EICAR.NDB:0:*:${Buffer.from(eicar, "ascii").toString("hex")}\n`);
  const socketPath = join(dir, "clamd.sock");
  const conf = join(dir, "clamd.conf");
  const lines = {
    Foreground: "yes",
    LocalSocket: socketPath,
    DatabaseDirectory: db,
    Bytecode: "no",
    SelfCheck: "0",
    LogFile: join(dir, "clamd.log"),
    StreamMaxLength: "400M",
    MaxFileSize: "400M",
    MaxScanSize: "1000M",
    AlertExceedsMax: "yes",
  };
  writeFileSync(conf, Object.entries(lines).map(([k, v]) => `${k} ${v}\n`).join(""));
  const child = spawn(clamdBinary(), [`--config-file=${conf}`], { stdio: "ignore", detached: false });
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await pings(socketPath))) {
    if (exited) throw new Error(`clamd exited; see ${join(dir, "clamd.log")}`);
    if (Date.now() > deadline) throw new Error(`clamd did not answer PING; see ${join(dir, "clamd.log")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.pid === undefined) throw new Error("clamd has no pid");
  return { pid: child.pid, url: `unix://${socketPath}` };
}

/**
 * Starts a real `sodam serve` on a free port with a throwaway SQLite data directory, and a clamd
 * for it to scan files with.
 */
export default async function globalSetup(): Promise<void> {
  const dist = join(root, "dist", "index.html");
  if (!existsSync(dist)) throw new Error("web/dist is missing: run `npm run build` (make web-build) first");
  const sodam = process.env.SODAM_BIN ?? resolve(root, "../.venv/bin/sodam");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sodam-e2e-"));
  const clamdDir = mkdtempSync(join(tmpdir(), "sodam-e2e-clamd-"));
  const clamd = await startClamd(clamdDir);
  const state = { pid: 0, clamdPid: clamd.pid, baseURL: "", dataDir, clamdDir };
  writeFileSync(STATE_FILE, JSON.stringify(state));
  const log = openSync(join(dataDir, "server.log"), "a");
  const child = spawn(sodam, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env: {
      ...process.env,
      SODAM_DATA_DIR: dataDir,
      SODAM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SODAM_WEB_DIR: join(root, "dist"),
      SODAM_FILES__CLAMD_URL: clamd.url,
    },
    stdio: ["ignore", log, log],
    detached: false,
  });
  const baseURL = `http://127.0.0.1:${port}`;
  writeFileSync(STATE_FILE, JSON.stringify({ ...state, pid: child.pid, baseURL }));
  process.env.SODAM_E2E_BASE_URL = baseURL;
  try {
    await waitReady(baseURL, Date.now() + 60_000);
  } catch (error) {
    // No teardown follows a failed setup: stop what this run started.
    child.kill("SIGTERM");
    process.kill(clamd.pid, "SIGTERM");
    throw error;
  }
}
