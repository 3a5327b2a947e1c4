import { expect, test } from "@playwright/test";
import { bubble, composer, createDirectRoom, createUser, login, newPage, openRoom, postAs, screenshot } from "./support";

test("mobile layout: one screen at a time, back to the list, sending works", async ({ browser }) => {
  const kim = await createUser("김모바");
  const lee = await createUser("이폰");
  const roomId = await createDirectRoom(kim, lee);
  await postAs(lee, roomId, "지금 밖이라 폰으로 볼게요");
  const m = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(m.page, kim);

  // The list fills the screen, the menu is at the bottom.
  await expect(m.page.locator(`[data-room-id="${roomId}"]`)).toBeVisible();
  await expect(m.page.getByRole("navigation", { name: "주 메뉴" })).toBeVisible();
  await expect(m.page.locator(".main-area")).toBeHidden();
  await screenshot(m.page, "mobile-list");

  await openRoom(m.page, roomId);
  await expect(m.page.locator(".list-panel")).toBeHidden();
  await expect(bubble(m.page, "지금 밖이라 폰으로 볼게요")).toBeVisible();
  await composer(m.page).fill("네 천천히 보세요");
  await m.page.getByRole("button", { name: "전송" }).click();
  await expect(bubble(m.page, "네 천천히 보세요")).toBeVisible();
  const box = await m.page.locator(".chat-panel").boundingBox();
  expect(box?.width).toBeLessThanOrEqual(390);
  await screenshot(m.page, "mobile-chat");

  await m.page.getByRole("button", { name: "뒤로" }).click();
  await expect(m.page.locator(`[data-room-id="${roomId}"]`)).toBeVisible();
  await m.context.close();
});

test("dark mode follows the system setting", async ({ browser }) => {
  const kim = await createUser("김다크");
  const lee = await createUser("이모드");
  const roomId = await createDirectRoom(kim, lee);
  await postAs(lee, roomId, "밤에는 어두운 화면이 편하죠");
  const d = await newPage(browser, { colorScheme: "dark" });
  await login(d.page, kim);
  await openRoom(d.page, roomId);
  await composer(d.page).fill("맞아요 눈이 편해요");
  await composer(d.page).press("Enter");
  await expect(bubble(d.page, "맞아요 눈이 편해요")).toBeVisible();
  const bg = await d.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe("rgb(31, 31, 34)");
  await screenshot(d.page, "dark-chat");
  await d.context.close();
});
