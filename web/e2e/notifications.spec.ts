import { expect, test } from "@playwright/test";
import { actAs, createDirectRoom, createUser, login, newPage, postAs } from "./support";

// Records notifications instead of showing them, and lets the test hide the tab.
const INIT = `
  window.__notes = [];
  window.__hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => window.__hidden === true });
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    window.__notes.push({ title, body: options && options.body });
    return Promise.resolve();
  };
  window.Notification = class {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
  };
`;

test("desktop notifications while the tab is hidden, never for a muted room unless I am mentioned", async ({ browser }) => {
  const kim = await createUser("김알림");
  const lee = await createUser("이보냄");
  const roomId = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  await a.page.addInitScript(INIT);
  await login(a.page, kim);
  await expect(a.page.locator(`[data-room-id="${roomId}"]`)).toBeVisible();
  const notes = () => a.page.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);

  // Visible tab: no notification.
  await postAs(lee, roomId, "보이는 동안");
  await expect(a.page.locator(`[data-room-id="${roomId}"]`)).toContainText("보이는 동안");
  expect(await notes()).toEqual([]);

  await a.page.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));
  await postAs(lee, roomId, "<b>알림</b> 테스트");
  await expect.poll(notes).toEqual([{ title: "이보냄", body: "<b>알림</b> 테스트" }]);
  await expect(a.page).toHaveTitle("(2) 소담");

  // Muted: silent, except a mention of me.
  await actAs(kim, "PATCH", `/api/rooms/${roomId}/settings`, { muted: true });
  await expect(a.page.locator(`[data-room-id="${roomId}"] .room-item-flag`)).toBeVisible();
  await postAs(lee, roomId, "조용히 보낸 메시지");
  await expect(a.page.locator(`[data-room-id="${roomId}"]`)).toContainText("조용히 보낸 메시지");
  await postAs(lee, roomId, `<@${kim.id}> 급한 건입니다`);
  await expect.poll(notes).toEqual([
    { title: "이보냄", body: "<b>알림</b> 테스트" },
    { title: "이보냄", body: "@김알림 급한 건입니다" },
  ]);
  // A muted room's messages are left out of the total in the title.
  await expect(a.page).toHaveTitle("소담");
  await a.context.close();
});
