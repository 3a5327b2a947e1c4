import { describe, expect, it } from "vitest";
import { plainText, safeHref, segment } from "./linkify";

describe("linkify", () => {
  it("links http, https and mailto only", () => {
    expect(segment("보세요 https://example.com/a?b=1.")).toEqual([
      { type: "text", text: "보세요 " },
      { type: "link", text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { type: "text", text: "." },
    ]);
    expect(segment("mailto:kim@example.com")[0]).toMatchObject({ type: "link" });
  });

  it("never links javascript: or data: and keeps HTML as text", () => {
    expect(segment("javascript:alert(1)")).toEqual([{ type: "text", text: "javascript:alert(1)" }]);
    expect(segment('<img src=x onerror="alert(1)">')).toEqual([{ type: "text", text: '<img src=x onerror="alert(1)">' }]);
    expect(safeHref("data:text/html,hi")).toBeNull();
    expect(safeHref("JAVASCRIPT:alert(1)")).toBeNull();
  });

  it("turns mention tokens into mentions", () => {
    expect(segment("<@12> 확인 부탁 <@all>")).toEqual([
      { type: "mention", userId: 12 },
      { type: "text", text: " 확인 부탁 " },
      { type: "mention", userId: "all" },
    ]);
    expect(plainText("<@12> 안녕", (id) => (id === 12 ? "김민수" : null), "모두")).toBe("@김민수 안녕");
  });

  it("adds https to www links", () => {
    expect(segment("www.sodam.kr")[0]).toEqual({ type: "link", text: "www.sodam.kr", href: "https://www.sodam.kr/" });
  });
});
