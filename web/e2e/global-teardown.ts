import { readFileSync, rmSync } from "node:fs";
import { STATE_FILE } from "./global-setup";

interface State {
  pid: number;
  clamdPid?: number;
  dataDir: string;
  clamdDir?: string;
}

/** Stops a process this run started (by its pid) and waits until it is gone. */
async function stop(pid: number | undefined): Promise<void> {
  if (!pid) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the server and the clamd this run started and removes their directories. */
export default async function globalTeardown(): Promise<void> {
  const state = JSON.parse(readFileSync(STATE_FILE, "utf8")) as State;
  await stop(state.pid);
  await stop(state.clamdPid);
  if (!process.env.SODAM_E2E_KEEP) {
    rmSync(state.dataDir, { recursive: true, force: true });
    if (state.clamdDir) rmSync(state.clamdDir, { recursive: true, force: true });
  }
  rmSync(STATE_FILE, { force: true });
}
