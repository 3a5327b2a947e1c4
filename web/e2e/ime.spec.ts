import { expect, test } from "@playwright/test";
import { bubble, composer, createDirectRoom, createUser, login, messagesOf, newPage, openRoom } from "./support";

test("Korean IME: Enter mid-composition sends exactly 안녕하세요 once, with its last syllable", async ({ browser }) => {
  const kim = await createUser("김하나");
  const lee = await createUser("이두리");
  const roomId = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  const b = await newPage(browser);
  await login(a.page, kim);
  await login(b.page, lee);
  await openRoom(a.page, roomId);
  await openRoom(b.page, roomId);

  const box = composer(a.page);
  await box.focus();
  const cdp = await a.context.newCDPSession(a.page);
  // Type 안녕하세 syllable by syllable as a Korean IME does: jamo compose, then commit.
  for (const steps of [["ㅇ", "아", "안"], ["ㄴ", "녀", "녕"], ["ㅎ", "하"], ["ㅅ", "세"]]) {
    for (const text of steps) await cdp.send("Input.imeSetComposition", { text, selectionStart: text.length, selectionEnd: text.length });
    await cdp.send("Input.insertText", { text: steps[steps.length - 1]! });
  }
  // The last syllable is still being composed when Enter goes down.
  await cdp.send("Input.imeSetComposition", { text: "ㅇ", selectionStart: 1, selectionEnd: 1 });
  await cdp.send("Input.imeSetComposition", { text: "요", selectionStart: 1, selectionEnd: 1 });
  await expect(box).toHaveValue("안녕하세요");
  await a.page.keyboard.down("Enter"); // keydown with isComposing: the IME's, not ours
  await a.page.keyboard.up("Enter");
  // Nothing was sent mid-composition: no "안녕하세" without its last syllable, no early copy.
  await expect(a.page.locator(".msg-row.mine")).toHaveCount(0);
  // The IME commits the syllable (compositionend), then the Enter reaches the page.
  await cdp.send("Input.insertText", { text: "요" });
  await expect(box).toHaveValue("안녕하세요");
  await a.page.keyboard.press("Enter");

  await expect(bubble(b.page, "안녕하세요")).toHaveCount(1);
  await expect(box).toHaveValue(""); // no leftover "요" to be sent a second time
  await expect(a.page.locator(".msg-row.mine")).toHaveCount(1);
  // Exactly once on the server, exactly that text.
  await expect.poll(async () => (await messagesOf(kim, roomId)).map((m) => m.body)).toEqual(["안녕하세요"]);
  await a.context.close();
  await b.context.close();
});
