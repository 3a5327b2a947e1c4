import { describe, expect, it } from "vitest";
import { formatBytes, graphemes, middleEllipsis } from "./format";

describe("formatBytes", () => {
  it("uses binary units with one decimal below ten", () => {
    expect(formatBytes(0, "ko")).toBe("0 B");
    expect(formatBytes(512, "ko")).toBe("512 B");
    expect(formatBytes(1023, "ko")).toBe("1,023 B");
    expect(formatBytes(1024, "ko")).toBe("1 KB");
    expect(formatBytes(1536, "ko")).toBe("1.5 KB");
    expect(formatBytes(5 * 1024 * 1024 + 300_000, "ko")).toBe("5.3 MB");
    expect(formatBytes(300 * 1024 * 1024, "ko")).toBe("300 MB");
    expect(formatBytes(1.25 * 1024 ** 3, "ko")).toBe("1.3 GB");
  });

  it("moves up a unit instead of printing 1,024", () => {
    expect(formatBytes(1024 * 1024 - 10, "ko")).toBe("1 MB");
  });

  it("formats digits for the locale", () => {
    expect(formatBytes(1500 * 1024 ** 4, "en")).toBe("1,500 TB");
    expect(formatBytes(1536, "de")).toBe("1,5 KB");
  });
});

describe("middleEllipsis", () => {
  it("leaves short names alone", () => {
    expect(middleEllipsis("회의록.pdf", 20)).toBe("회의록.pdf");
  });

  it("keeps the start and the extension of a long Korean name", () => {
    const name = "2026년 1분기 영업 실적 보고서 최종본 수정.pdf";
    const short = middleEllipsis(name, 20);
    expect(graphemes(short)).toHaveLength(20);
    expect(short.startsWith("2026년 1분기")).toBe(true);
    expect(short.endsWith("수정.pdf")).toBe(true);
    expect(short).toContain("…");
  });

  it("never cuts a decomposed Hangul syllable (NFD names from macOS) or an emoji apart", () => {
    const nfd = "가나다라마바사아자차카타파하 문서 최종.hwp".normalize("NFD");
    const short = middleEllipsis(nfd, 16);
    // Every syllable survives whole: composing it again gives only complete syllables.
    const composed = short.normalize("NFC");
    expect(composed).toMatch(/^[가-힣 …]+\.hwp$/u);
    expect(graphemes(short)).toHaveLength(16);
    const emoji = middleEllipsis("👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻.png", 8);
    expect(graphemes(emoji).every((g) => g === "👩‍💻" || g === "…" || g === "." || g === "p" || g === "n" || g === "g")).toBe(true);
  });

  it("does not mistake a dot in a sentence for an extension", () => {
    const short = middleEllipsis("v1.0 배포 계획과 일정 그리고 담당자 목록", 14);
    expect(graphemes(short)).toHaveLength(14);
    expect(short.startsWith("v1.0 배포")).toBe(true);
  });
});
