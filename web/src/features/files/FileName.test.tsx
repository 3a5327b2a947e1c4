import { readFileSync } from "node:fs";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { FileName } from "./FileName";
import { splitFileName } from "./format";

const css = readFileSync(new URL("../../ui/styles.css", import.meta.url), "utf8");

/** The `white-space` value the stylesheet gives a class (last plain `.class { … }` rule wins). */
function whiteSpaceOf(className: string): string {
  let value = "normal";
  const rule = new RegExp(`(^|[\\s,}])\\.${className}\\s*\\{([^}]*)\\}`, "g");
  for (const m of css.matchAll(rule)) {
    const ws = /white-space:\s*([a-z-]+)/.exec(m[2] ?? "");
    if (ws?.[1]) value = ws[1];
  }
  return value;
}

/**
 * The text a browser shows for the rendered FileName: `.file-name` is a flex container, so each
 * child span is its own flex item, and white space at the start and end of a flex item is removed
 * (and runs of spaces collapse) unless the item keeps white space (`pre`, `pre-wrap`, `break-spaces`).
 */
function shownText(name: string): string {
  const html = renderToStaticMarkup(<FileName name={name} />);
  const items = [...html.matchAll(/<span class="([^"]*)">([^<]*)<\/span>/g)];
  expect(items.length).toBeGreaterThan(0);
  return items
    .map(([, cls = "", raw = ""]) => {
      const text = raw.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;/g, "'");
      const keeps = cls.split(/\s+/).some((c) => ["pre", "pre-wrap", "break-spaces"].includes(whiteSpaceOf(c)));
      return keeps ? text : text.replace(/[ \t\n]+/g, " ").trim();
    })
    .join("");
}

describe("FileName", () => {
  const names = [
    "2026년 1분기 영업 매출 보고서.xlsx", // the split falls right after a space ("…영업 " | "매출 보고서.xlsx")
    "회의록 최종 .docx", // short: not split
    "주간 업무 보고 자료 2월셋째.pptx", // the space before the tail moves to the head
    "프로젝트 계획서 v2  초안  검토본.pdf", // double spaces around the split
    "a b c d e f g h i j k l m n o p.txt",
    "2026년 1분기 영업실적 보고서 (최종 수정본) 재무팀 검토 반영.pdf",
    "보고서 없는 확장자 이름 정말 길다 ",
  ];

  it.each(names)("shows every character of %s", (name) => {
    expect(shownText(name)).toBe(name);
  });

  it("splits the example names at a space, so the test covers the edge", () => {
    expect(splitFileName("2026년 1분기 영업 매출 보고서.xlsx").head.endsWith(" ")).toBe(true);
    const moved = splitFileName("주간 업무 보고 자료 2월셋째.pptx");
    expect(moved.head.endsWith(" ") && !moved.tail.startsWith(" ")).toBe(true);
  });

  it("keeps the full name in the title", () => {
    const html = renderToStaticMarkup(<FileName name="2026년 1분기 영업 매출 보고서.xlsx" />);
    expect(html).toContain('title="2026년 1분기 영업 매출 보고서.xlsx"');
  });
});
