import { describe, expect, it } from "vitest";
import { createI18n } from "../../lib/i18n";
import { attachment, fileMessage, message } from "../../test/factories";
import { filesPreview } from "./preview";

const ko = createI18n("ko");
const en = createI18n("en");
const t = ko.t.bind(ko);

describe("room list preview of a file message", () => {
  it("names photos, videos and files", () => {
    expect(filesPreview(fileMessage([attachment({ kind: "image" })]), t)).toBe("사진");
    expect(filesPreview(fileMessage([attachment({ kind: "image" }), attachment({ id: 43, kind: "image" })]), t)).toBe("사진 2장");
    expect(filesPreview(fileMessage([attachment({ kind: "video" })]), t)).toBe("동영상");
    expect(filesPreview(fileMessage([attachment({ kind: "image" }), attachment({ id: 43, kind: "video" })]), t)).toBe("사진·동영상 2개");
    expect(filesPreview(fileMessage([attachment({ file_name: "회의록 2026.pdf" })]), t)).toBe("파일: 회의록 2026.pdf");
    expect(filesPreview(fileMessage([attachment(), attachment({ id: 43, kind: "image" })]), t)).toBe("파일 2개");
    expect(filesPreview(fileMessage([attachment({ kind: "image" }), attachment({ id: 43, kind: "image" })]), en.t.bind(en))).toBe("2 photos");
  });

  it("is null for a message without files", () => {
    expect(filesPreview(message(), t)).toBeNull();
  });

  it("says just 파일 for a file message whose attachments the room list left out", () => {
    const bare = message({ kind: "file", body: null });
    expect(bare.attachments).toBeUndefined();
    expect(filesPreview(bare, t)).toBe("파일");
    expect(filesPreview(bare, en.t.bind(en))).toBe("File");
    expect(filesPreview({ ...bare, attachments: [] }, t)).toBe("파일");
    expect(filesPreview({ ...bare, deleted_at: "2026-01-05T00:00:00Z", attachments: [] }, t)).toBeNull();
  });
});
