import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, type BrowserContext, type Page, expect } from "@playwright/test";
import { ADMIN_PASSWORD, STATE_FILE } from "./global-setup";

export const PASSWORD = "e2e-user-password-1";
const SCREENSHOTS = resolve(import.meta.dirname, "../../docs/screenshots");

export function baseURL(): string {
  if (process.env.SODAM_E2E_BASE_URL) return process.env.SODAM_E2E_BASE_URL;
  return (JSON.parse(readFileSync(STATE_FILE, "utf8")) as { baseURL: string }).baseURL;
}

let counter = 0;
/** A suffix that keeps every test's users apart on the shared server. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

async function api<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await fetch(baseURL() + path, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}

const tokens = new Map<string, { token: string; userId: number }>();

/** One login per user per test file (logins are rate limited and deliberately slow to hash). */
export async function tokenFor(username: string, password = PASSWORD): Promise<{ token: string; userId: number }> {
  const cached = tokens.get(username);
  if (cached) return cached;
  const t = await api<{ access_token: string; user_id: number }>("POST", "/api/auth/login", null, {
    username,
    password,
    device_name: "e2e",
  });
  const value = { token: t.access_token, userId: t.user_id };
  tokens.set(username, value);
  return value;
}

export interface TestUser {
  id: number;
  username: string;
  displayName: string;
}

/** Creates a user through the admin API, as the first administrator. */
export async function createUser(displayName: string): Promise<TestUser> {
  const admin = await tokenFor("admin", ADMIN_PASSWORD);
  const username = unique("u");
  const user = await api<{ id: number }>("POST", "/api/admin/users", admin.token, {
    username,
    password: PASSWORD,
    display_name: displayName,
  });
  return { id: user.id, username, displayName };
}

export async function createDirectRoom(owner: TestUser, peer: TestUser): Promise<number> {
  const { token } = await tokenFor(owner.username);
  const room = await api<{ id: number }>("POST", "/api/rooms", token, { kind: "direct", user_id: peer.id, history_visibility: "joined" });
  return room.id;
}

export async function createGroupRoom(owner: TestUser, name: string, members: TestUser[]): Promise<number> {
  const { token } = await tokenFor(owner.username);
  const room = await api<{ id: number }>("POST", "/api/rooms", token, {
    kind: "group",
    name,
    member_ids: members.map((m) => m.id),
    history_visibility: "all",
  });
  return room.id;
}

export async function sendAs(user: TestUser, roomId: number, body: string): Promise<void> {
  const { token } = await tokenFor(user.username);
  await api("POST", `/api/rooms/${roomId}/messages`, token, { client_msg_id: `e2e-${unique("m")}`, body });
}

export async function messagesOf(user: TestUser, roomId: number): Promise<{ body: string | null; client_msg_id: string | null }[]> {
  const { token } = await tokenFor(user.username);
  const page = await api<{ messages: { body: string | null; client_msg_id: string | null }[] }>(
    "GET",
    `/api/rooms/${roomId}/messages?limit=200`,
    token,
  );
  return page.messages;
}

export async function newPage(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "ko-KR", timezoneId: "Asia/Seoul", ...options });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e.message));
  return { context, page };
}

export async function login(page: Page, user: { username: string }, password = PASSWORD): Promise<void> {
  await page.goto(baseURL() + "/");
  await page.getByLabel("아이디").fill(user.username);
  await page.getByLabel("비밀번호").fill(password);
  await page.getByRole("button", { name: "로그인" }).click();
  await expect(page.getByRole("navigation", { name: "주 메뉴" })).toBeVisible();
}

export async function openRoom(page: Page, roomId: number): Promise<void> {
  await page.locator(`[data-room-id="${roomId}"]`).click();
  await expect(page.getByRole("textbox", { name: "메시지를 입력하세요" })).toBeVisible();
}

export function composer(page: Page) {
  return page.getByRole("textbox", { name: "메시지를 입력하세요" });
}

export function bubble(page: Page, text: string | RegExp) {
  return page.locator(".msg-row:not(.pending) .bubble-text", { hasText: text });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) });
}

/** Sends as a user through the API and returns the message id (for seeding screens). */
export async function postAs(user: TestUser, roomId: number, body: string, replyToId?: number): Promise<number> {
  const { token } = await tokenFor(user.username);
  const answer = await api<{ message: { id: number } }>("POST", `/api/rooms/${roomId}/messages`, token, {
    client_msg_id: `e2e-${unique("m")}`,
    body,
    ...(replyToId ? { reply_to_id: replyToId } : {}),
  });
  return answer.message.id;
}

export async function actAs(user: TestUser, method: string, path: string, body?: unknown): Promise<void> {
  const { token } = await tokenFor(user.username);
  await api(method, path, token, body);
}
