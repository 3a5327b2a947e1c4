import { expect, test } from "@playwright/test";
import { bubble, composer, createDirectRoom, createUser, login, messagesOf, newPage, openRoom } from "./support";

test("offline: three messages typed, back online, each arrives exactly once and in order", async ({ browser }) => {
  const kim = await createUser("김오프");
  const lee = await createUser("이온라");
  const roomId = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  const b = await newPage(browser);
  await login(a.page, kim);
  await login(b.page, lee);
  await openRoom(a.page, roomId);
  await openRoom(b.page, roomId);

  await a.context.setOffline(true);
  await expect(a.page.locator(".connection-banner")).toBeVisible();
  const bodies = ["첫 번째 메시지", "두 번째 메시지", "세 번째 메시지"];
  for (const body of bodies) {
    await composer(a.page).fill(body);
    await composer(a.page).press("Enter");
  }
  // Shown at once, pending, in order.
  await expect(a.page.locator(".msg-row.pending .bubble-text")).toHaveText(bodies);
  await expect(a.page.locator(".connection-banner")).toContainText("3");

  await a.context.setOffline(false);
  for (const body of bodies) await expect(bubble(b.page, body)).toHaveCount(1);
  await expect(b.page.locator(".msg-row.theirs .bubble-text")).toHaveText(bodies);
  await expect(a.page.locator(".msg-row.pending")).toHaveCount(0);
  await expect(a.page.locator(".connection-banner")).toHaveCount(0);
  await expect.poll(async () => (await messagesOf(kim, roomId)).map((m) => m.body)).toEqual(bodies);
  await a.context.close();
  await b.context.close();
});
