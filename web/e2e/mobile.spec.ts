import { expect, test } from "@playwright/test";
import { actAs, bubble, composer, createDirectRoom, createUser, login, newPage, openRoom, postAs, screenshot } from "./support";

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

test("message actions: a long press near the top opens them in view, the picker fits and closes; the keyboard reaches them", async ({ browser }) => {
  const kim = await createUser("김길게누름");
  const lee = await createUser("이대화");
  const roomId = await createDirectRoom(kim, lee);
  for (let i = 1; i <= 30; i++) await postAs(lee, roomId, `메시지 ${i}번입니다`);
  // Read already, so the room opens at its newest message and stays there.
  await actAs(kim, "POST", `/api/rooms/${roomId}/read`, { seq: 30 });
  const m = await newPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(m.page, kim);
  await openRoom(m.page, roomId);
  await expect(bubble(m.page, "메시지 30번입니다")).toBeInViewport();

  // The topmost bubble that is wholly in view, right under the header.
  const list = await m.page.locator(".message-list").boundingBox();
  const listTop = list?.y ?? 0;
  const tops = await m.page.locator(".msg-row .bubble").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
  const index = tops.findIndex((top) => top >= listTop);
  const target = m.page.locator(".msg-row .bubble").nth(index);
  const box = await target.boundingBox();
  expect((box?.y ?? 0) - listTop).toBeLessThan(96);
  const cdp = await m.context.newCDPSession(m.page);
  const at = { x: (box?.x ?? 0) + 20, y: (box?.y ?? 0) + (box?.height ?? 0) / 2 };
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [at] });
  // The gesture itself lasts longer than LONG_PRESS_MS (500 ms): this wait is the user's finger.
  await m.page.waitForTimeout(800);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  const toolbar = target.getByRole("toolbar");
  await expect(toolbar).toBeVisible();
  const bar = await toolbar.boundingBox();
  expect(bar?.y ?? 0).toBeGreaterThanOrEqual(listTop);

  // The reaction picker: buttons big enough for a finger, nothing off the screen, and a tap
  // elsewhere closes it with the toolbar.
  await toolbar.getByRole("button", { name: "공감" }).tap();
  const picker = toolbar.getByRole("group", { name: "공감" });
  await expect(picker).toBeVisible();
  for (const b of await picker.getByRole("button").all()) {
    const size = await b.boundingBox();
    expect(Math.min(size?.width ?? 0, size?.height ?? 0)).toBeGreaterThanOrEqual(36);
    expect((size?.x ?? 0) + (size?.width ?? 0)).toBeLessThanOrEqual(360);
  }
  expect(await m.page.locator(".message-list").evaluate((e) => e.scrollWidth)).toBeLessThanOrEqual(360);
  await m.page.locator(".chat-header h1").tap();
  await expect(picker).toHaveCount(0);
  await expect(toolbar).toBeHidden();
  await m.context.close();

  // A desktop keyboard: from a focused bubble, Tab reaches its first action.
  const d = await newPage(browser);
  await login(d.page, kim);
  await openRoom(d.page, roomId);
  const last = d.page.locator(".msg-row .bubble", { hasText: "메시지 30번입니다" });
  await expect(last).toBeVisible();
  await d.page.mouse.move(0, 0);
  await last.focus();
  await d.page.keyboard.press("Tab");
  await expect(last.getByRole("button", { name: "공감" })).toBeFocused();
  await d.page.keyboard.press("Enter");
  await d.page.keyboard.press("Escape");
  await expect(last.getByRole("group", { name: "공감" })).toHaveCount(0);
  await d.context.close();
});
