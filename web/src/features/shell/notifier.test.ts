import { describe, expect, it } from "vitest";
import { message, room } from "../../test/factories";
import { createNotifier, shouldNotify } from "./notifier";
import { titleWithUnread } from "./badge";

describe("notifications", () => {
  const base = { enabled: () => true, isHidden: () => true, room: () => room() };

  it("notifies for others' messages while the tab is hidden", () => {
    expect(shouldNotify(base, message({ sender_id: 2 }), 1)).toBe(true);
    expect(shouldNotify({ ...base, isHidden: () => false }, message({ sender_id: 2 }), 1)).toBe(false);
    expect(shouldNotify(base, message({ sender_id: 1 }), 1)).toBe(false);
    expect(shouldNotify({ ...base, enabled: () => false }, message({ sender_id: 2 }), 1)).toBe(false);
  });

  it("respects mute, except for a mention of me", () => {
    const muted = { ...base, room: () => room({ muted: true }) };
    expect(shouldNotify(muted, message({ sender_id: 2 }), 1)).toBe(false);
    expect(shouldNotify(muted, message({ sender_id: 2, mentions: [1] }), 1)).toBe(true);
  });

  it("shows the text as given (the Notification API renders plain text)", () => {
    const shown: { title: string; body?: string }[] = [];
    const notify = createNotifier(
      { ...base, title: () => "개발팀", body: (m) => m.body ?? "", show: (title, o) => shown.push({ title, body: o.body }) },
      1,
    );
    notify(message({ sender_id: 2, body: "<b>hi</b>" }));
    expect(shown).toEqual([{ title: "개발팀", body: "<b>hi</b>" }]);
  });

  it("puts the unread total in the title", () => {
    expect(titleWithUnread("소담", 0)).toBe("소담");
    expect(titleWithUnread("소담", 3)).toBe("(3) 소담");
    expect(titleWithUnread("소담", 1200)).toBe("(999+) 소담");
  });
});
