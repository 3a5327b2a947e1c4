import { expect, test } from "@playwright/test";
import { baseURL, bubble, composer, createDirectRoom, createUser, login, messagesOf, newPage, openRoom, sendAs, type TestUser } from "./support";

test("reload keeps the session, the draft and the pending queue (sent once, after reconnecting)", async ({ browser }) => {
  const kim = await createUser("김새로");
  const lee = await createUser("이고침");
  const roomId = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  const b = await newPage(browser);
  await login(a.page, kim);
  await login(b.page, lee);
  await openRoom(a.page, roomId);
  await openRoom(b.page, roomId);

  // The service worker controls the page once installed (the app shell then loads offline).
  await expect.poll(() => a.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  await a.context.setOffline(true);
  await composer(a.page).fill("새로고침해도 사라지지 않는 메시지");
  await composer(a.page).press("Enter");
  await composer(a.page).fill("작성 중인 초안");
  await expect(a.page.locator(".msg-row.pending")).toHaveCount(1);

  await a.page.reload();
  // Still logged in (no login form), the pending message and the draft are back.
  await expect(a.page.getByRole("navigation", { name: "주 메뉴" })).toBeVisible();
  await expect(a.page).toHaveURL(`${baseURL()}/chats/${roomId}`);
  await expect(a.page.locator(".msg-row.pending .bubble-text")).toHaveText(["새로고침해도 사라지지 않는 메시지"]);
  await expect(composer(a.page)).toHaveValue("작성 중인 초안");

  await a.context.setOffline(false);
  await expect(bubble(b.page, "새로고침해도 사라지지 않는 메시지")).toHaveCount(1);
  await expect(a.page.locator(".msg-row.pending")).toHaveCount(0);
  await expect.poll(async () => (await messagesOf(kim, roomId)).map((m) => m.body)).toEqual(["새로고침해도 사라지지 않는 메시지"]);
  await a.context.close();
  await b.context.close();
});

test("a chat that appeared just before an offline reload is still listed after it", async ({ browser }) => {
  const kim = await createUser("김방금");
  const lee = await createUser("이생긴");
  const park = await createUser("박새방");
  const first = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  await login(a.page, kim);
  await openRoom(a.page, first);
  await expect.poll(() => a.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // A new chat reaches the list live; the page goes offline and reloads at once, well inside the
  // snapshot's one-second debounce: the save must happen as the page unloads.
  const fresh = await sendNewRoom(park, kim);
  await expect(a.page.locator(`[data-room-id="${fresh}"]`)).toBeVisible();
  await a.context.setOffline(true);
  await a.page.reload();
  await expect(a.page.getByRole("navigation", { name: "주 메뉴" })).toBeVisible();
  await expect(a.page.locator(`[data-room-id="${fresh}"]`)).toBeVisible();
  await expect(a.page.locator(`[data-room-id="${first}"]`)).toBeVisible();
  await a.context.close();
});

/** A 1:1 chat started by `owner` with a first message, so it shows in `peer`'s list. */
async function sendNewRoom(owner: TestUser, peer: TestUser): Promise<number> {
  const roomId = await createDirectRoom(owner, peer);
  await sendAs(owner, roomId, "새로 생긴 방의 첫 메시지");
  return roomId;
}
