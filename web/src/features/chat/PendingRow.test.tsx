import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it } from "vitest";
import { createI18n } from "../../lib/i18n";
import type { PendingMessage } from "./outbox";
import { PendingRow, canRetry } from "./PendingRow";

const failed = (error_code: string, files = true): PendingMessage => ({
  client_msg_id: "cmid-test-0001",
  room_id: 1,
  body: "보고서 보냅니다",
  reply_to_id: null,
  upload_ids: files ? ["u1"] : undefined,
  files: files ? [{ name: "보고서.pdf", size: 1200, type: "application/pdf" }] : undefined,
  created_at: "2026-11-27T00:00:00Z",
  state: "failed",
  error_code,
});

function html(pending: PendingMessage, onReattach?: () => void): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={createI18n("ko")}>
      <PendingRow pending={pending} onRetry={() => undefined} onDiscard={() => undefined} onReattach={onReattach} />
    </I18nextProvider>,
  );
}

describe("a message the server refused", () => {
  it("offers 재전송 and 삭제 when sending again can work", () => {
    const out = html(failed("rate_limited"));
    expect(out).toContain(">재전송<");
    expect(out).toContain(">삭제<");
    expect(canRetry(failed("storage_unavailable"))).toBe(true);
  });

  it("offers only 삭제 when its files are gone from the server (the upload expired), and says to attach them again", () => {
    const out = html(failed("upload_not_found"));
    expect(out).not.toContain(">재전송<");
    expect(out).toContain(">삭제<");
    expect(out).toContain("다시 올려 주세요");
    expect(canRetry(failed("upload_not_found"))).toBe(false);
    expect(out).not.toContain("다시 올리기");
  });

  it("offers 다시 올리기 instead when the page still holds its files", () => {
    const out = html(failed("upload_not_found"), () => undefined);
    expect(out).toContain(">다시 올리기<");
    expect(out).toContain(">삭제<");
    expect(out).not.toContain(">재전송<");
    // A refusal that a resend can pass keeps 재전송, never both.
    const retryable = html(failed("rate_limited"), () => undefined);
    expect(retryable).toContain(">재전송<");
    expect(retryable).not.toContain("다시 올리기");
  });

  it("a message still on its way offers neither", () => {
    expect(canRetry({ ...failed("x"), state: "pending" })).toBe(false);
    expect(html({ ...failed("x"), state: "pending" })).not.toContain("재전송");
  });
});

describe("a message on its way", () => {
  it("shows mentions as names, like a sent message, not the server's tokens", () => {
    const html = renderToStaticMarkup(
      <I18nextProvider i18n={createI18n("ko")}>
        <PendingRow
          pending={{ ...failed("x"), state: "pending", body: "<@3> 확인 부탁드려요" }}
          onRetry={() => undefined}
          onDiscard={() => undefined}
          myUserId={1}
          nameOf={(id) => (id === 3 ? "박보브" : null)}
        />
      </I18nextProvider>,
    );
    expect(html).toContain("@박보브");
    expect(html).not.toContain("&lt;@3&gt;");
  });
});

describe("a file message whose upload is gone", () => {
  it("names the file the server could not find when there are several", () => {
    const two: PendingMessage = {
      ...failed("upload_not_found"),
      upload_ids: ["u1", "u2"],
      files: [
        { name: "보고서.pdf", size: 1200, type: "application/pdf" },
        { name: "첨부표.xlsx", size: 900, type: "application/vnd.ms-excel" },
      ],
      failed_upload_id: "u2",
    };
    expect(html(two)).toContain("‘첨부표.xlsx’ 파일을 서버에서 찾을 수 없습니다. 다시 올려 주세요.");
    // One file: the general text says it all.
    expect(html({ ...failed("upload_not_found"), failed_upload_id: "u1" })).toContain("올리던 파일을 서버에서 찾을 수 없습니다");
  });
});

describe("a reply on its way", () => {
  it("quotes the message it answers, as the sent message will", () => {
    const html = renderToStaticMarkup(
      <I18nextProvider i18n={createI18n("ko")}>
        <PendingRow
          pending={{ ...failed("x", false), state: "pending", reply_to_id: 5 }}
          onRetry={() => undefined}
          onDiscard={() => undefined}
          nameOf={(id) => (id === 3 ? "이수신" : null)}
          reply={{ id: 5, seq: 9, sender_id: 3, body: "정산서 보내 주세요", kind: "text", attachments: [] }}
        />
      </I18nextProvider>,
    );
    expect(html).toContain("이수신");
    expect(html).toContain("정산서 보내 주세요");
    expect(html).toContain('class="reply-quote"');
  });
});
