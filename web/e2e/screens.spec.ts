import { expect, test } from "@playwright/test";
import {
  actAs,
  baseURL,
  bubble,
  composer,
  createGroupRoom,
  createUser,
  login,
  newPage,
  openRoom,
  postAs,
  screenshot,
} from "./support";
import { ADMIN_PASSWORD } from "./global-setup";

test("group chat: reactions, reply, notice, edit, unsend, mention autocomplete, room info; screenshots", async ({ browser }) => {
  const minsu = await createUser("김민수");
  const younghee = await createUser("이영희");
  const jihoon = await createUser("박지훈");
  const roomId = await createGroupRoom(minsu, "디자인팀 🎨", [younghee, jihoon]);
  const m1 = await postAs(minsu, roomId, "이번 주 금요일까지 시안 정리 부탁드립니다.");
  await postAs(younghee, roomId, "네 알겠습니다!");
  await postAs(younghee, roomId, "참고 자료는 https://example.com/brand-guide 에 있어요");
  const m4 = await postAs(jihoon, roomId, "저는 아이콘 작업 먼저 할게요", m1);
  const m5 = await postAs(jihoon, roomId, "<script>alert('xss')</script> 이건 그냥 글자로 보여야 합니다");
  const m6 = await postAs(younghee, roomId, "잘못 보낸 메시지");
  await actAs(younghee, "DELETE", `/api/rooms/${roomId}/messages/${m6}`);
  await actAs(jihoon, "PATCH", `/api/rooms/${roomId}/messages/${m5}`, { body: "<script>alert('xss')</script> 이건 그냥 글자로 보여야 합니다 (수정)" });
  await actAs(younghee, "PUT", `/api/rooms/${roomId}/messages/${m4}/reaction`, { reaction: "heart" });
  await actAs(minsu, "PUT", `/api/rooms/${roomId}/messages/${m4}/reaction`, { reaction: "like" });
  await actAs(minsu, "PUT", `/api/rooms/${roomId}/notice`, { message_id: m1 });

  const a = await newPage(browser);
  await login(a.page, minsu);
  await openRoom(a.page, roomId);

  // Notice banner, reply quote, reactions, (edited), tombstone, text-only rendering.
  await expect(a.page.locator(".notice-banner")).toContainText("시안 정리");
  await expect(a.page.locator(".reply-quote")).toContainText("김민수님에게 답장");
  await expect(a.page.locator(".reaction-chip")).toHaveCount(2);
  await expect(a.page.locator(".edited")).toHaveText("(수정됨)");
  await expect(a.page.locator(".tombstone")).toHaveText("삭제된 메시지입니다.");
  await expect(bubble(a.page, "<script>alert('xss')</script>")).toBeVisible();
  await expect(a.page.locator(".bubble a[href='https://example.com/brand-guide']")).toHaveText("https://example.com/brand-guide");

  // My own reaction toggles from the chip.
  const like = a.page.locator(".reaction-chip.mine");
  await expect(like).toHaveAttribute("aria-pressed", "true");

  // @-autocomplete: pick 이영희 and send; the server gets a <@id> mention and 이영희 sees it highlighted.
  const b = await newPage(browser);
  await login(b.page, younghee);
  await composer(a.page).pressSequentially("@이");
  await expect(a.page.getByRole("listbox", { name: "언급할 사람" })).toBeVisible();
  await screenshot(a.page, "mention-autocomplete");
  await composer(a.page).press("Enter");
  await expect(composer(a.page)).toHaveValue("@이영희 ");
  await composer(a.page).pressSequentially("확인 부탁해요");
  await composer(a.page).press("Enter");
  await expect(b.page.locator(`[data-room-id="${roomId}"] .badge-mention`)).toBeVisible();
  await openRoom(b.page, roomId);
  await expect(b.page.locator(".mention-me", { hasText: "@이영희" })).toBeVisible();
  await expect(b.page.locator(".bubble-mention")).toHaveCount(1);

  // Typing indicator.
  await composer(b.page).pressSequentially("입력 중");
  await expect(a.page.locator(".typing-indicator")).toHaveText("이영희님이 입력 중…");
  await composer(b.page).press("Enter");
  await expect(bubble(a.page, "입력 중")).toBeVisible();
  await expect(a.page.locator(".typing-indicator")).toHaveText("");

  await screenshot(a.page, "chat-group");

  // Who has not read it (on demand): only 박지훈 has not opened the room.
  await a.page.locator(".msg-row.mine", { hasText: "확인 부탁해요" }).locator(".unread-count").click();
  const unread = a.page.getByRole("dialog", { name: "안 읽은 사람" });
  await expect(unread.locator(".member-name")).toHaveText(["박지훈"]);
  await unread.getByRole("button", { name: "닫기" }).click();

  // The owner hides (가리기) someone's message: everyone sees the placeholder, live.
  const target = a.page.locator(".msg-row", { hasText: "네 알겠습니다!" }).locator(".bubble");
  await target.hover();
  await target.getByRole("button", { name: "가리기" }).click();
  await expect(a.page.locator(".tombstone", { hasText: "방장이 가린 메시지입니다." })).toBeVisible();
  await expect(b.page.locator(".tombstone", { hasText: "방장이 가린 메시지입니다." })).toBeVisible();
  await expect(bubble(b.page, "네 알겠습니다!")).toHaveCount(0);

  // Room info: members with the owner tag, favourite on top of the list.
  await a.page.getByRole("button", { name: "채팅방 정보" }).click();
  await expect(a.page.getByRole("list", { name: "대화상대 목록" }).locator("li")).toHaveCount(3);
  await expect(a.page.locator(".role-tag", { hasText: "방장" })).toBeVisible();
  await a.page.getByLabel("즐겨찾기 (목록 맨 위에 고정)").check();
  await expect(a.page.locator(`[data-room-id="${roomId}"] .room-item-flag`).first()).toBeVisible();
  await screenshot(a.page, "room-info");
  await a.context.close();
  await b.context.close();
});

test("new chat, people, settings and admin screens", async ({ browser }) => {
  const me = await createUser("최서연");
  const other = await createUser("정우성");
  await actAs(other, "PATCH", "/api/me/profile", { status_message: "오늘도 화이팅 💪", work_status: "meeting" });
  const a = await newPage(browser);

  await a.page.goto(baseURL() + "/");
  await expect(a.page.getByRole("heading", { name: "소담에 로그인" })).toBeVisible();
  await screenshot(a.page, "login");
  await login(a.page, me);

  // New chat: pick one person for a 1:1 room.
  await a.page.getByRole("button", { name: "새로운 채팅" }).click();
  const dialog = a.page.getByRole("dialog", { name: "대화상대 선택" });
  await dialog.getByRole("searchbox").fill("정우");
  await dialog.getByLabel(/정우성/).check();
  await screenshot(a.page, "new-chat");
  await dialog.getByRole("button", { name: "1:1 채팅" }).click();
  await expect(a.page.getByRole("heading", { level: 1, name: "정우성" })).toBeVisible();

  // People: work status and status message.
  await a.page.getByRole("button", { name: "친구" }).click();
  const row = a.page.locator(".person-row", { hasText: "정우성" });
  await expect(row).toContainText("회의 중");
  await expect(row).toContainText("오늘도 화이팅");
  await screenshot(a.page, "people");

  // Settings: status message and work status; sessions with this device.
  await a.page.getByRole("button", { name: "설정" }).click();
  await a.page.getByLabel("상태 메시지").fill("휴가 중입니다 🌴");
  await a.page.getByLabel("휴가").check();
  await a.page.getByRole("button", { name: "저장" }).first().click();
  await expect(a.page.getByRole("status").filter({ hasText: "프로필을 저장했습니다." })).toBeVisible();
  await expect(a.page.locator(".session-row", { hasText: "현재 기기" })).toBeVisible();
  await screenshot(a.page, "settings");

  // English on demand: every label switches at once.
  await a.page.getByLabel("언어").selectOption("en");
  await expect(a.page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  await a.page.getByRole("button", { name: "Chats" }).click();
  await expect(a.page.getByRole("searchbox", { name: "Search chats" })).toBeVisible();
  await a.page.locator(".room-item-button").first().click();
  await expect(a.page.getByRole("textbox", { name: "Type a message" })).toBeVisible();
  await screenshot(a.page, "chat-english");

  // Admin: create a user, then deactivate them.
  const admin = await newPage(browser);
  await login(admin.page, { username: "admin" }, ADMIN_PASSWORD);
  await admin.page.getByRole("button", { name: "관리자" }).click();
  const username = `new${Date.now().toString(36)}`;
  await admin.page.locator("input[name=new-username]").fill(username);
  await admin.page.locator("input[name=new-display-name]").fill("한지민");
  await admin.page.locator("input[name=new-password]").fill("initial-password-1");
  await admin.page.getByRole("button", { name: "만들기" }).click();
  const userRow = admin.page.locator("tr", { hasText: username });
  await expect(userRow).toContainText("사용 중");
  await userRow.getByRole("button", { name: "비활성화" }).click();
  await expect(userRow).toContainText("비활성");
  await screenshot(admin.page, "admin");
  await a.context.close();
  await admin.context.close();
});
