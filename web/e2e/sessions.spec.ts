import { expect, test } from "@playwright/test";
import { composer, createDirectRoom, createGroupRoom, createUser, login, newPage, openRoom } from "./support";

test("a draft per room survives switching rooms", async ({ browser }) => {
  const kim = await createUser("김초안");
  const lee = await createUser("이임시");
  const park = await createUser("박저장");
  const direct = await createDirectRoom(kim, lee);
  const group = await createGroupRoom(kim, "초안 테스트방", [lee, park]);
  const a = await newPage(browser);
  await login(a.page, kim);
  await openRoom(a.page, direct);
  await composer(a.page).fill("1:1 방에 쓰던 글");
  await openRoom(a.page, group);
  await expect(composer(a.page)).toHaveValue("");
  await composer(a.page).fill("그룹방에 쓰던 글");
  await openRoom(a.page, direct);
  await expect(composer(a.page)).toHaveValue("1:1 방에 쓰던 글");
  await openRoom(a.page, group);
  await expect(composer(a.page)).toHaveValue("그룹방에 쓰던 글");

  // The search box filters the room list by name.
  await a.page.getByRole("searchbox", { name: "채팅방 이름 검색" }).fill("초안 테스트");
  await expect(a.page.locator("[data-room-id]")).toHaveCount(1);
  await expect(a.page.locator(`[data-room-id="${group}"]`)).toBeVisible();
  await a.page.getByRole("searchbox", { name: "채팅방 이름 검색" }).fill("");
  await expect(a.page.locator("[data-room-id]")).toHaveCount(2);
  await a.context.close();
});

test("sessions and devices: remote logout ends the other device at once", async ({ browser }) => {
  const kim = await createUser("김기기");
  const pc = await newPage(browser);
  const laptop = await newPage(browser);
  await login(pc.page, kim);
  await login(laptop.page, kim);

  await pc.page.getByRole("button", { name: "설정" }).click();
  const others = pc.page.locator(".session-row", { hasNotText: "현재 기기" });
  await expect(others).toHaveCount(1);
  await others.getByRole("button", { name: "로그아웃" }).click();
  await expect(others).toHaveCount(0);

  // The other device is back at the login form without doing anything.
  await expect(laptop.page.getByRole("heading", { name: "소담에 로그인" })).toBeVisible();
  await expect(laptop.page.getByRole("alert")).toHaveText("이 기기의 로그인이 종료되었습니다.");
  await pc.context.close();
  await laptop.context.close();
});
