import { describe, expect, it } from "vitest";
import { formatBytes, graphemes, splitFileName } from "./format";

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

describe("splitFileName (ellipsis in the middle)", () => {
  it("leaves short names whole", () => {
    expect(splitFileName("회의록.pdf")).toEqual({ head: "회의록.pdf", tail: "" });
  });

  it("keeps the end of a long Korean name and its extension in the part that always shows", () => {
    const name = "2026년 1분기 영업 실적 보고서 최종본 수정.pdf";
    const { head, tail } = splitFileName(name);
    expect(tail).toBe("최종본 수정.pdf");
    expect(head + tail).toBe(name);
  });

  it("never cuts a decomposed Hangul syllable (NFD names from macOS) or an emoji apart", () => {
    const nfd = "가나다라마바사아자차카타파하 문서 최종.hwp".normalize("NFD");
    const { head, tail } = splitFileName(nfd);
    expect(head + tail).toBe(nfd);
    // Each part composes back into whole syllables: no jamo was separated from its syllable.
    expect(tail.normalize("NFC")).toBe("문서 최종.hwp");
    expect(graphemes(tail)).toHaveLength(9);
    const emoji = splitFileName("👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻.png", 2);
    expect(emoji.tail).toBe("👩‍💻👩‍💻.png");
    expect(graphemes(emoji.head)).toEqual(Array(7).fill("👩‍💻"));
  });

  it("keeps less of a shorter name's end, so a narrow card still shows its start", () => {
    expect(splitFileName("회의록_최종본_정말최종.pdf")).toEqual({ head: "회의록_최종본_", tail: "정말최종.pdf" });
  });

  it("leaves the spaces at the split with the head, so no gap opens after the ellipsis", () => {
    const name = "2026년 1분기 영업 실적 보고서.txt";
    const { head, tail } = splitFileName(name);
    expect(tail).toBe("실적 보고서.txt");
    expect(head).toBe("2026년 1분기 영업 ");
    expect(head + tail).toBe(name);
  });

  it("does not mistake a dot in a sentence for an extension", () => {
    const { tail } = splitFileName("v1.0 배포 계획과 일정 그리고 담당자 목록");
    expect(tail).toBe("담당자 목록");
  });
});
