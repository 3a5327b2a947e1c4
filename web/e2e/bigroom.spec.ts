import { expect, test } from "@playwright/test";
import { createDirectRoom, createUser, login, newPage, openRoom } from "./support";

const COUNT = Number(process.env.E2E_BIG_COUNT ?? 100_000);

test("100,000 loaded messages scroll smoothly (virtualised: the DOM holds only what is on screen)", async ({ browser }) => {
  test.setTimeout(180_000);
  const kim = await createUser("김대량");
  const lee = await createUser("이십만");
  const roomId = await createDirectRoom(kim, lee);
  const a = await newPage(browser);
  // The newest page answers with 100,000 messages at once, so the timeline holds all of them.
  await a.page.route(`**/api/rooms/${roomId}/messages?limit=50`, async (route) => {
    const start = Date.UTC(2025, 0, 1);
    const messages = Array.from({ length: COUNT }, (_, i) => ({
      id: 10_000_000 + i,
      room_id: roomId,
      seq: i + 1,
      event_seq: i + 1,
      sender_id: i % 3 === 0 ? kim.id : lee.id,
      client_msg_id: null,
      kind: "text",
      body: `메시지 ${i + 1}${i % 10 === 0 ? "\n두 줄짜리 메시지" : ""}`,
      system: null,
      reply_to: null,
      forwarded: false,
      mentions: [],
      mentions_all: false,
      created_at: new Date(start + i * 45_000).toISOString(),
      edited_at: null,
      deleted_at: null,
      hidden: false,
      reactions: [],
      unread_count: 0,
    }));
    await route.fulfill({ json: { messages, has_more_before: false, has_more_after: false } });
  });
  await login(a.page, kim);
  await openRoom(a.page, roomId);
  await expect(a.page.locator(".bubble-text", { hasText: `메시지 ${COUNT}` })).toBeVisible({ timeout: 60_000 });

  // Wheel-like scrolling (300 px a frame) through the newest messages, then long jumps across the
  // whole list; each step is timed until the next frame has been painted.
  const log = a.page.getByRole("log", { name: "대화 내용" });
  const measure = (stepPx: number | null, steps: number) =>
    log.evaluate(
      async (el, [px, n]) => {
        const out: number[] = [];
        const jump = px ?? el.scrollHeight / n;
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          el.scrollTop = Math.max(0, el.scrollTop - jump);
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          out.push(performance.now() - t0);
        }
        return out.sort((x, y) => x - y);
      },
      [stepPx, steps] as const,
    );
  const wheel = await measure(300, 60);
  const jumps = await measure(null, 20);
  const list = a.page.getByRole("log", { name: "대화 내용" });
  await expect
    .poll(async () => {
      await list.evaluate((el) => el.scrollTo({ top: 0 }));
      return a.page.locator(".bubble-text", { hasText: /^메시지 2$/ }).count();
    })
    .toBe(1);
  const rows = await a.page.locator(".msg-row").count();
  expect(rows).toBeLessThan(80);
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? 0;
  console.log(
    `100k messages: DOM rows ${rows}; wheel step median ${median(wheel).toFixed(1)} ms (max ${wheel[wheel.length - 1]?.toFixed(1)}), ` +
      `long jump median ${median(jumps).toFixed(1)} ms`,
  );
  // Generous bounds for a loaded 2-core CI machine (two frames are ~33 ms).
  expect(median(wheel)).toBeLessThan(120);
  expect(median(jumps)).toBeLessThan(500);
  await a.context.close();
});
