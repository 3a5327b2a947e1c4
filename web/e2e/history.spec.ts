import { expect, test } from "@playwright/test";
import { bubble, createDirectRoom, createUser, login, newPage, openRoom, postAs } from "./support";

test("history loads on scroll in a virtualised list; jump to first unread; new-messages pill", async ({ browser }) => {
  test.setTimeout(120_000);
  const kim = await createUser("김기록");
  const lee = await createUser("이역사");
  const roomId = await createDirectRoom(kim, lee);
  for (let i = 1; i <= 300; i++) await postAs(lee, roomId, `메시지 ${i}`);

  const a = await newPage(browser);
  await login(a.page, kim);
  await expect(a.page.locator(`[data-room-id="${roomId}"] .badge-unread`)).toHaveText("300");
  await openRoom(a.page, roomId);
  await expect(bubble(a.page, "메시지 300")).toBeVisible();

  // Jump to the first unread message (not loaded yet: fetched around it).
  await a.page.getByRole("button", { name: "↑ 안 읽은 메시지부터 보기" }).click();
  await expect(bubble(a.page, /^메시지 1$/)).toBeVisible();
  await expect(a.page.getByRole("button", { name: "최신 메시지로" })).toBeVisible();
  await a.page.getByRole("button", { name: "최신 메시지로" }).click();
  await expect(bubble(a.page, "메시지 300")).toBeVisible();

  // Scroll up to the very first message; pages load as the top comes near.
  const list = a.page.getByRole("log", { name: "대화 내용" });
  await expect
    .poll(
      async () => {
        await list.evaluate((el) => el.scrollTo({ top: 0 }));
        return bubble(a.page, /^메시지 1$/).count();
      },
      { timeout: 30_000 },
    )
    .toBe(1);
  // Only what is on screen is in the DOM, not the 300 loaded messages.
  expect(await a.page.locator(".msg-row").count()).toBeLessThan(80);

  // Scrolled up, a new message shows the pill instead of moving the view.
  await postAs(lee, roomId, "새로 온 메시지");
  const pill = a.page.getByRole("button", { name: "↓ 새 메시지 1개" });
  await expect(pill).toBeVisible();
  await pill.click();
  await expect(bubble(a.page, "새로 온 메시지")).toBeVisible();
  await a.context.close();
});
