// Web client benchmark (issue 5 targets, docs/performance.md "Web client"). Not part of `npm run e2e`.
//
//   npm run build && npm run bench        (or, from the repository root: make bench-web)
//
// Uses the already built web/dist (builds nothing), starts a real `sodam serve` on a free port with a
// throwaway SQLite data directory (as e2e/global-setup.ts does), seeds through the REST API and drives
// the system Chromium (/usr/bin/chromium, headless) with Playwright. Prints a JSON summary and writes
// it to web/bench/results/ (ignored by git).
//
// Environment: BENCH_BIG (messages in the big room, 10000), BENCH_LIVE (messages the open tab
// receives, 20000), BENCH_SWITCHES (room switches timed, 20), BENCH_LOADS (cold first loads, 5),
// BENCH_CONCURRENCY (parallel REST sends, 8), SODAM_BIN, SODAM_CHROMIUM.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");
const BIG = Number(process.env.BENCH_BIG ?? 10_000);
const LIVE = Number(process.env.BENCH_LIVE ?? 20_000);
const SWITCHES = Number(process.env.BENCH_SWITCHES ?? 20);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ADMIN_PASSWORD = "bench-admin-password-1";
const PASSWORD = "bench-user-password-1";
const CHROMIUM = process.env.SODAM_CHROMIUM ?? "/usr/bin/chromium";

const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const stats = (xs) => ({ n: xs.length, median: round(pct(xs, 50)), p95: round(pct(xs, 95)), max: round(Math.max(...xs)) });

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function startServer() {
  if (!existsSync(join(dist, "index.html"))) throw new Error("web/dist is missing: run `npm run build` first");
  const sodam = process.env.SODAM_BIN ?? resolve(root, "../.venv/bin/sodam");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sodam-bench-web-"));
  const out = openSync(join(dataDir, "server.log"), "a");
  const child = spawn(sodam, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env: { ...process.env, SODAM_DATA_DIR: dataDir, SODAM_ADMIN_PASSWORD: ADMIN_PASSWORD, SODAM_WEB_DIR: dist },
    stdio: ["ignore", out, out],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`sodam serve exited (${child.exitCode}); see ${dataDir}/server.log`);
    if (Date.now() > deadline) throw new Error("sodam serve did not become ready");
    await sleep(200);
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
    }
    if (!process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, stop, pid: child.pid };
}

function client(url) {
  const api = async (method, path, token, body) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url + path, {
        method,
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 429 && attempt < 20) {
        await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : res.json();
    }
  };
  const login = async (username, password) => {
    const t = await api("POST", "/api/auth/login", null, { username, password, device_name: "bench" });
    return { token: t.access_token, userId: t.user_id };
  };
  return { api, login };
}

const RUN = Date.now().toString(36);
let sentTotal = 0;

/** Sends `count` messages as `token` into `roomId`, at most `concurrency` requests in flight. */
async function sendMany(api, token, roomId, count, prefix, concurrency = CONCURRENCY) {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await api("POST", `/api/rooms/${roomId}/messages`, token, {
        client_msg_id: `bench-${RUN}-${++sentTotal}`,
        body: `${prefix} ${i + 1} — 오늘 회의 자료는 공유 폴더에 올려 두었습니다. 확인 부탁드려요!`,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - t0) / 1000;
  return { count, seconds: round(s), per_second: round(count / s) };
}

/** Gzipped size of the built JavaScript, by zlib (level 9 and the default 6). */
function distJs() {
  const html = readFileSync(join(dist, "index.html"), "utf8");
  const entry = [...html.matchAll(/src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
  const preload = [...html.matchAll(/href="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
  const files = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js"));
  const size = (f) => {
    const buf = readFileSync(join(dist, "assets", f));
    return { file: f, raw: buf.length, gzip9: gzipSync(buf, { level: 9 }).length, gzip6: gzipSync(buf).length };
  };
  const all = files.map(size);
  const initial = all.filter((f) => entry.includes(f.file) || preload.includes(f.file));
  const sum = (xs, k) => xs.reduce((a, f) => a + f[k], 0);
  return {
    files: all,
    initial_files: initial.map((f) => f.file),
    initial_raw_bytes: sum(initial, "raw"),
    initial_gzip_bytes: sum(initial, "gzip6"),
    initial_gzip9_bytes: sum(initial, "gzip9"),
    all_gzip_bytes: sum(all, "gzip6"),
  };
}

// Records when selectors first appear (performance.now(), i.e. since navigation start).
const MARKS_SCRIPT = () => {
  const marks = {};
  window.__benchMarks = marks;
  const check = () => {
    // React has committed the login form: the username field exists and has taken the focus
    // (autoFocus), so typing works from this moment.
    const input = document.querySelector("form.login-card input[name=username]");
    if (!marks.loginForm && input && document.activeElement === input) marks.loginForm = performance.now();
    if (!marks.roomList && document.querySelector("[data-room-id]")) marks.roomList = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
};

async function main() {
  const uptimeBefore = execFileSync("uptime", { encoding: "utf8" }).trim();
  const js = distJs();
  log(`dist JS: ${js.initial_files.join(", ")} ${js.initial_raw_bytes} B raw, ${js.initial_gzip_bytes} B gzip`);

  const server = await startServer();
  log(`sodam serve pid ${server.pid} at ${server.url}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
      "--enable-precise-memory-info",
    ],
  });
  const summary = {};
  try {
    const { api, login } = client(server.url);
    const admin = await login("admin", ADMIN_PASSWORD);
    const mk = async (username, display_name) => {
      const u = await api("POST", "/api/admin/users", admin.token, { username, password: PASSWORD, display_name });
      return { id: u.id, username, ...(await login(username, PASSWORD)) };
    };
    const viewer = await mk("viewer", "김보기");
    const sender = await mk("sender", "이전송");
    const group = (name, members) =>
      api("POST", "/api/rooms", viewer.token, { kind: "group", name, member_ids: members, history_visibility: "all" });
    const small = await group("작은 방", [sender.id]);
    const big = await group("대량 방", [sender.id]);
    const live = await group("실시간 방", [sender.id]);
    log(`seeding ${BIG} messages into room ${big.id} (${CONCURRENCY} in flight)`);
    const seed = await sendMany(api, sender.token, big.id, BIG, "대량");
    await sendMany(api, sender.token, small.id, 30, "작은", 4);
    await sendMany(api, sender.token, live.id, 1, "실시간", 1);
    log(`seeded: ${seed.per_second} messages/s`);
    summary.seed = seed;

    const ctxOpts = { locale: "ko-KR", timezoneId: "Asia/Seoul", viewport: { width: 1280, height: 800 } };

    // (a) + (b): cold first loads in fresh contexts (no cache, no service worker yet).
    const loads = [];
    const logins = [];
    let transferred = null;
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext(ctxOpts);
      await context.addInitScript(MARKS_SCRIPT);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      const scripts = new Map();
      cdp.on("Network.responseReceived", (e) => {
        if (e.type === "Script") scripts.set(e.requestId, { url: e.response.url, encoding: e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? null });
      });
      cdp.on("Network.loadingFinished", (e) => {
        const s = scripts.get(e.requestId);
        if (s) s.bytes = e.encodedDataLength;
      });
      await page.goto(server.url + "/", { waitUntil: "commit" });
      await page.waitForFunction(() => window.__benchMarks?.loginForm !== undefined);
      await page.waitForLoadState("load");
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType("navigation")[0];
        return { loginForm: window.__benchMarks.loginForm, domInteractive: n.domInteractive, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
      });
      loads.push(nav);
      if (i === 0) {
        const list = [...scripts.values()];
        transferred = { scripts: list, total_bytes: list.reduce((a, s) => a + (s.bytes ?? 0), 0) };
      }
      // After login: click -> the room list is rendered.
      await page.getByLabel("아이디").fill(viewer.username);
      await page.getByLabel("비밀번호").fill(PASSWORD);
      const clickAt = await page.evaluate(() => performance.now());
      await page.getByRole("button", { name: "로그인" }).click();
      await page.waitForFunction(() => window.__benchMarks?.roomList !== undefined, null, { timeout: 30_000 });
      const roomListAt = await page.evaluate(() => window.__benchMarks.roomList);
      logins.push(roomListAt - clickAt);
      await context.close();
    }
    summary.first_load = {
      js: js,
      transferred_js: transferred,
      login_form_interactive_ms: stats(loads.map((l) => l.loginForm)),
      dom_content_loaded_ms: stats(loads.map((l) => l.domContentLoaded)),
      load_event_ms: stats(loads.map((l) => l.load)),
      login_to_room_list_ms: stats(logins),
    };
    log(`first load: login form at ${summary.first_load.login_form_interactive_ms.median} ms (median), room list ${summary.first_load.login_to_room_list_ms.median} ms after login`);

    // (c) room switch: one signed-in tab; cold = first open of the 10,000-message room since the page
    // loaded (its newest page comes from the server), warm = switching back to it later.
    const context = await browser.newContext(ctxOpts);
    const page = await context.newPage();
    page.on("pageerror", (e) => log("pageerror:", e.message));
    await page.goto(server.url + "/");
    await page.getByLabel("아이디").fill(viewer.username);
    await page.getByLabel("비밀번호").fill(PASSWORD);
    await page.getByRole("button", { name: "로그인" }).click();
    await page.locator(`[data-room-id="${big.id}"]`).waitFor();
    const lastText = `대량 ${BIG} —`;
    const switchTo = (roomId, text) =>
      page.evaluate(
        async ([id, want]) => {
          const button = document.querySelector(`[data-room-id="${id}"]`);
          const t0 = performance.now();
          button.click();
          const has = () => [...document.querySelectorAll(".msg-row .bubble-text")].some((e) => e.textContent.startsWith(want));
          while (!has()) {
            await new Promise((r) => requestAnimationFrame(r));
            if (performance.now() - t0 > 20_000) throw new Error("room did not show its last page");
          }
          const shown = performance.now() - t0;
          await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); // until painted
          return { shown, painted: performance.now() - t0 };
        },
        [roomId, text],
      );
    const cold = [];
    const warm = [];
    for (let i = 0; i < SWITCHES; i++) {
      // Cold: reload (the session is kept), open the small room, then switch to the big one.
      await page.reload();
      await page.locator(`[data-room-id="${small.id}"]`).waitFor();
      await switchTo(small.id, "작은 30 —");
      await sleep(200);
      cold.push(await switchTo(big.id, lastText));
      // Warm: back to the small room and again to the big one.
      await sleep(200);
      await switchTo(small.id, "작은 30 —");
      await sleep(200);
      warm.push(await switchTo(big.id, lastText));
    }
    const rows = await page.locator(".msg-row").count();
    summary.room_switch = {
      messages_in_room: BIG,
      cold_shown_ms: stats(cold.map((c) => c.shown)),
      cold_painted_ms: stats(cold.map((c) => c.painted)),
      warm_shown_ms: stats(warm.map((c) => c.shown)),
      warm_painted_ms: stats(warm.map((c) => c.painted)),
      dom_rows_after: rows,
    };
    log(`room switch: cold median ${summary.room_switch.cold_painted_ms.median} ms p95 ${summary.room_switch.cold_painted_ms.p95}; warm median ${summary.room_switch.warm_painted_ms.median}`);

    // (d) JS heap while the open tab receives LIVE messages from the other user.
    const cdp = await context.newCDPSession(page);
    const heap = async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      await cdp.send("HeapProfiler.collectGarbage");
      const u = await cdp.send("Runtime.getHeapUsage");
      const m = await cdp.send("Performance.getMetrics");
      const metric = (n) => m.metrics.find((x) => x.name === n)?.value;
      return { used_mb: round(u.usedSize / 2 ** 20), total_mb: round(u.totalSize / 2 ** 20), dom_nodes: metric("Nodes"), listeners: metric("JSEventListeners") };
    };
    await cdp.send("Performance.enable");
    await page.reload();
    await page.locator(`[data-room-id="${live.id}"]`).waitFor();
    await switchTo(live.id, "실시간 1 —");
    const before = await heap();
    log(`heap before live messages: ${before.used_mb} MB; sending ${LIVE}`);
    // Newest-page refetches of the live room during the run = resyncs (gap or resync_required).
    let refetches = 0;
    page.on("request", (r) => {
      if (r.url().includes(`/api/rooms/${live.id}/messages?`)) refetches += 1;
    });
    const samples = [];
    let sent = 0;
    const sampler = (async () => {
      while (sent < LIVE) {
        await sleep(10_000);
        const u = await cdp.send("Runtime.getHeapUsage");
        samples.push({ t: Date.now(), used_mb: round(u.usedSize / 2 ** 20) });
      }
    })();
    const liveRun = await sendMany(api, sender.token, live.id, LIVE, "라이브");
    sent = LIVE;
    await sampler;
    const lastLive = `라이브 ${LIVE} —`;
    await page.waitForFunction(
      (want) => [...document.querySelectorAll(".msg-row .bubble-text")].some((e) => e.textContent.startsWith(want)),
      lastLive,
      { timeout: 120_000, polling: 500 },
    );
    await sleep(2000);
    // How much of the room the tab holds: the virtualised list's scroll height grows with every
    // message in the timeline store (a resync that dropped history would show here).
    const held = await page.evaluate(() => {
      const el = document.querySelector('[role="log"]');
      const rows = [...document.querySelectorAll(".msg-row")];
      const avg = rows.length ? rows.reduce((a, r) => a + r.getBoundingClientRect().height, 0) / rows.length : 0;
      return { log_scroll_height_px: el?.scrollHeight ?? 0, approx_messages_held: avg ? Math.round((el?.scrollHeight ?? 0) / avg) : 0 };
    });
    const after = await heap();
    // The same tab after also opening the 10,000-message room again and the small one.
    await switchTo(big.id, lastText);
    await switchTo(live.id, lastLive);
    const afterAll = await heap();
    summary.heap = {
      messages_received: LIVE,
      send: liveRun,
      before: before,
      after_live_gc: after,
      held,
      history_refetches_during_live: refetches,
      after_reopening_rooms_gc: afterAll,
      peak_sampled_no_gc_mb: Math.max(...samples.map((s) => s.used_mb), after.used_mb),
    };
    log(`heap after ${LIVE} live messages: ${after.used_mb} MB`);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }

  const fl = summary.first_load;
  summary.targets = {
    first_load_js_gzip_le_250kb: { value_kb: round(fl.js.initial_gzip_bytes / 1000), met: fl.js.initial_gzip_bytes <= 250_000 },
    interactive_lt_1s: { value_ms: fl.login_form_interactive_ms.median, p95_ms: fl.login_form_interactive_ms.p95, met: fl.login_form_interactive_ms.p95 < 1000 },
    room_switch_10k_lt_200ms: {
      cold_median_ms: summary.room_switch.cold_painted_ms.median,
      cold_p95_ms: summary.room_switch.cold_painted_ms.p95,
      warm_median_ms: summary.room_switch.warm_painted_ms.median,
      warm_p95_ms: summary.room_switch.warm_painted_ms.p95,
      met: summary.room_switch.cold_painted_ms.p95 < 200,
    },
    heap_20k_lt_300mb: { value_mb: summary.heap.after_live_gc.used_mb, peak_sampled_mb: summary.heap.peak_sampled_no_gc_mb, met: summary.heap.peak_sampled_no_gc_mb < 300 },
  };
  summary.machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    chromium: execFileSync(CHROMIUM, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    node: process.version,
    uptime_before: uptimeBefore,
    uptime_after: execFileSync("uptime", { encoding: "utf8" }).trim(),
    loadavg_after: loadavg().map((x) => round(x, 2)),
    git: execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim(),
  };
  const outDir = join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `web-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(summary, null, 2));
  log(`written ${file}`);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
