import { describe, expect, it } from "vitest";
import { createI18n } from "../../lib/i18n";
import { rejectionText } from "./rejections";
import type { Rejection } from "./uploads";

const ko = createI18n("ko");
const en = createI18n("en");
const limits = { maxSize: "300 MB", maxCount: 10 };

function refused(code: Rejection["code"], ...names: string[]): Rejection[] {
  return names.map((name) => ({ name, code }));
}

describe("rejectionText", () => {
  it("is null when nothing was refused", () => {
    expect(rejectionText([], ko.t.bind(ko), "ko", limits)).toBeNull();
  });

  it("says each reason once, naming the files together", () => {
    const text = rejectionText(
      [...refused("too_large", "영상1.mp4", "영상2.mp4"), ...refused("too_many", "메모.txt")],
      ko.t.bind(ko),
      "ko",
      limits,
    );
    expect(text).toBe(
      "영상1.mp4 및 영상2.mp4: 300 MB보다 큰 파일은 보낼 수 없습니다. " +
        "한 번에 10개까지 보낼 수 있어 메모.txt 파일은 제외했습니다.",
    );
  });

  it("counts the files past the first three instead of listing forty", () => {
    const names = Array.from({ length: 40 }, (_, i) => `사진${i + 1}.jpg`);
    const text = rejectionText(refused("too_many", ...names), ko.t.bind(ko), "ko", limits);
    expect(text).toBe("한 번에 10개까지 보낼 수 있어 사진1.jpg, 사진2.jpg, 사진3.jpg 외 37개 파일은 제외했습니다.");
  });

  it("refuses dropped folders first, by name", () => {
    const text = rejectionText([{ name: "폴더테스트", code: "folder" }, ...refused("too_large", "영상.mp4")], ko.t.bind(ko), "ko", limits);
    expect(text).toBe("폴더테스트: 폴더는 보낼 수 없습니다. 폴더 안의 파일을 선택해 주세요. 영상.mp4: 300 MB보다 큰 파일은 보낼 수 없습니다.");
  });

  it("reads in English", () => {
    const text = rejectionText(refused("too_large", "a.mov", "b.mov", "c.mov"), en.t.bind(en), "en", limits);
    expect(text).toBe("a.mov, b.mov, and c.mov: files over 300 MB cannot be sent.");
    const more = rejectionText(refused("too_many", "a", "b", "c", "d"), en.t.bind(en), "en", limits);
    expect(more).toBe("Up to 10 files at a time: a, b, c and 1 more left out.");
  });
});
