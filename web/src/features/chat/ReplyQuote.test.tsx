import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it } from "vitest";
import { createI18n, type Locale } from "../../lib/i18n";
import type { Message, ReplyPreview } from "../../lib/model";
import { attachment, fileMessage, message } from "../../test/factories";
import { ReplyQuote } from "./ReplyQuote";

const nameOf = (id: number) => (id === 2 ? "김민수" : null);

/** The text under "…님에게 답장". */
function quoted(reply: ReplyPreview, original: Message | null, locale: Locale = "ko"): string {
  const html = renderToStaticMarkup(
    <I18nextProvider i18n={createI18n(locale)}>
      <ReplyQuote reply={reply} original={original} nameOf={nameOf} />
    </I18nextProvider>,
  );
  expect(html).toContain(locale === "ko" ? "김민수님에게 답장" : "김민수");
  return /<span class="reply-quote-body">([^<]*)<\/span>/.exec(html)?.[1] ?? "";
}

describe("the quote of a reply to a file sent without a caption", () => {
  // An older server's quote (no file list), or one whose files are gone.
  const reply: ReplyPreview = { id: 41, seq: 9, sender_id: 2, body: "", kind: "file", attachments: [] };

  it("says what the file was from the quote's own file list, loaded original or not", () => {
    const photo = { ...reply, attachments: [{ kind: "image" as const, file_name: "회의 사진.png" }] };
    expect(quoted(photo, null)).toBe("사진");
    const doc = { ...reply, attachments: [{ kind: "file" as const, file_name: "견적서.pdf" }] };
    expect(quoted(doc, null)).toBe("파일: 견적서.pdf");
    expect(quoted(doc, null, "en")).toContain("견적서.pdf");
  });

  it("says what the file was when the original is in the timeline", () => {
    expect(quoted(reply, fileMessage([attachment({ kind: "image" })]))).toBe("사진");
    expect(quoted(reply, fileMessage([attachment({ kind: "video" })]))).toBe("동영상");
    expect(quoted(reply, fileMessage([attachment({ file_name: "회의록 2026.pdf" })]))).toBe("파일: 회의록 2026.pdf");
  });

  it("says 파일 when the original is not loaded", () => {
    expect(quoted(reply, null)).toBe("파일");
    expect(quoted(reply, null, "en")).not.toBe("");
  });

  it("keeps the text of a quoted caption and the unsent notice", () => {
    expect(quoted({ ...reply, body: "회의록입니다" }, fileMessage([attachment()]))).toBe("회의록입니다");
    expect(quoted({ ...reply, body: null }, null)).toBe("삭제된 메시지입니다.");
    expect(quoted({ ...reply, body: "안녕하세요" }, message())).toBe("안녕하세요");
  });
});
