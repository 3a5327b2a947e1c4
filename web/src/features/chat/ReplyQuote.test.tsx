import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it } from "vitest";
import { createI18n, type Locale } from "../../lib/i18n";
import type { ReplyPreview } from "../../lib/model";
import { ReplyQuote } from "./ReplyQuote";

const nameOf = (id: number) => (id === 2 ? "김민수" : null);

/** The text under "…님에게 답장". */
function quoted(reply: ReplyPreview, locale: Locale = "ko"): string {
  const html = renderToStaticMarkup(
    <I18nextProvider i18n={createI18n(locale)}>
      <ReplyQuote reply={reply} nameOf={nameOf} />
    </I18nextProvider>,
  );
  expect(html).toContain(locale === "ko" ? "김민수님에게 답장" : "김민수");
  return /<span class="reply-quote-body">([^<]*)<\/span>/.exec(html)?.[1] ?? "";
}

describe("the quote of a reply to a file sent without a caption", () => {
  const reply: ReplyPreview = { id: 41, seq: 9, sender_id: 2, body: "", kind: "file", attachments: [] };
  const files = (...list: [ReplyPreview["attachments"][number]["kind"], string][]) => ({
    ...reply,
    attachments: list.map(([kind, file_name]) => ({ kind, file_name })),
  });

  it("says what the file was from the quote's file list, as the room list does", () => {
    expect(quoted(files(["image", "회의 사진.png"]))).toBe("사진");
    expect(quoted(files(["video", "현장.mp4"]))).toBe("동영상");
    expect(quoted(files(["file", "회의록 2026.pdf"]))).toBe("파일: 회의록 2026.pdf");
    expect(quoted(files(["file", "견적서.pdf"]), "en")).toContain("견적서.pdf");
  });

  it("says 파일 when the quote names no files (they are gone)", () => {
    expect(quoted(reply)).toBe("파일");
    expect(quoted(reply, "en")).not.toBe("");
  });

  it("keeps the text of a quoted caption and the unsent notice", () => {
    expect(quoted({ ...reply, body: "회의록입니다" })).toBe("회의록입니다");
    expect(quoted({ ...reply, body: null, kind: null })).toBe("삭제된 메시지입니다.");
    expect(quoted({ ...reply, body: "안녕하세요", kind: "text" })).toBe("안녕하세요");
  });
});
