import { describe, expect, it } from "vitest";
import { SentFiles } from "./sentFiles";

const file = (name: string) => new File(["x"], name);

describe("SentFiles", () => {
  it("holds a waiting message's files and lets go once it no longer waits", () => {
    const held = new SentFiles();
    const a = { files: [file("a.pdf")], draft: "캡션 @김민수", replyToId: 7 };
    held.hold("m1", a);
    held.hold("m2", { files: [file("b.pdf")], draft: "", replyToId: null });
    expect(held.get("m1")).toBe(a);
    held.keepOnly(new Set(["m2"]));
    expect(held.get("m1")).toBeNull();
    expect(held.get("m2")?.files.map((f) => f.name)).toEqual(["b.pdf"]);
    held.keepOnly(new Set());
    expect(held.get("m2")).toBeNull();
  });
});
