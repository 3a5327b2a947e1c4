import { expect, test } from "@playwright/test";
import { bubble, composer, createDirectRoom, createGroupRoom, createUser, login, newPage, openRoom, postAs, screenshot } from "./support";

test("two users chat in real time; the 1 beside a bubble disappears when the other opens the room", async ({ browser }) => {
  const kim = await createUser("김민수");
  const lee = await createUser("이영희");
  const roomId = await createDirectRoom(kim, lee);

  const a = await newPage(browser);
  const b = await newPage(browser);
  await login(a.page, kim);
  await login(b.page, lee);

  await openRoom(a.page, roomId);
  await composer(a.page).fill("영희님, 회의 자료 보셨어요?");
  await composer(a.page).press("Enter");

  // Mine on the right with "1" (Lee has not read it yet).
  const mine = a.page.locator(".msg-row.mine", { hasText: "회의 자료" });
  await expect(mine).toBeVisible();
  await expect(mine.locator(".unread-count")).toHaveText("1");

  // Lee sees the room with an unread badge, live.
  const leeRoom = b.page.locator(`[data-room-id="${roomId}"]`);
  await expect(leeRoom).toContainText("회의 자료 보셨어요?");
  await expect(leeRoom.locator(".badge-unread")).toHaveText("1");
  await expect(b.page).toHaveTitle("(1) 소담");
  await screenshot(b.page, "room-list");

  // Lee opens the room: Kim's "1" disappears without a reload.
  await openRoom(b.page, roomId);
  await expect(bubble(b.page, "영희님, 회의 자료 보셨어요?")).toBeVisible();
  await expect(mine.locator(".unread-count")).toHaveCount(0);
  await expect(leeRoom.locator(".badge-unread")).toHaveCount(0);
  await expect(b.page).toHaveTitle("소담");

  // Lee answers; Kim gets it live, on the left with Lee's name.
  await composer(b.page).fill("네, 방금 확인했습니다 👍");
  await composer(b.page).press("Enter");
  const theirs = a.page.locator(".msg-row.theirs", { hasText: "방금 확인했습니다" });
  await expect(theirs).toBeVisible();
  await expect(theirs.locator(".msg-author")).toHaveText("이영희");

  // Shift+Enter makes a new line instead of sending.
  await composer(a.page).fill("첫 줄");
  await composer(a.page).press("Shift+Enter");
  await composer(a.page).pressSequentially("둘째 줄");
  await expect(composer(a.page)).toHaveValue("첫 줄\n둘째 줄");
  await composer(a.page).press("Enter");
  await expect(bubble(b.page, "둘째 줄")).toBeVisible();
  await expect(bubble(b.page, "첫 줄")).toHaveText("첫 줄\n둘째 줄");

  await screenshot(a.page, "chat");

  // Presence: Lee is online in Kim's header, and offline once Lee's browser is gone.
  await expect(a.page.locator(".chat-header .presence-online")).toBeVisible();
  await b.context.close();
  await expect(a.page.locator(".chat-header .presence-offline")).toBeVisible({ timeout: 30_000 });

  // A room someone else creates with me appears in my list live, and its first message with it.
  const park = await createUser("박새방");
  const groupId = await createGroupRoom(park, "새로 만든 방", [kim, lee]);
  await expect(a.page.locator(`[data-room-id="${groupId}"]`)).toContainText("새로 만든 방");
  await postAs(park, groupId, "환영합니다");
  await expect(a.page.locator(`[data-room-id="${groupId}"]`)).toContainText("환영합니다");
  await expect(a.page.locator(`[data-room-id="${groupId}"] .badge-unread`)).toHaveText("1");
  await a.context.close();
});
