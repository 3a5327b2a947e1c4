import { describe, expect, it } from "vitest";
import { droppedFiles, namePasted, pasteStamp } from "./incoming";

const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: "image/png", lastModified: 5 });
const at = new Date(2026, 10, 27, 9, 5, 7); // local time

describe("pasted pictures", () => {
  it("stamps the local time without colons", () => {
    expect(pasteStamp(at)).toBe("2026-11-27 09.05.07");
  });

  it("get a name of their own instead of image.png, numbered when several come at once", () => {
    const one = namePasted([png("image.png")], "스크린샷", at);
    expect(one.map((f) => f.name)).toEqual(["스크린샷 2026-11-27 09.05.07.png"]);
    expect(one[0]?.type).toBe("image/png");
    expect(one[0]?.lastModified).toBe(5);
    expect(one[0]?.size).toBe(4);
    const two = namePasted([png("image.png"), png("IMAGE.JPEG")], "Screenshot", at);
    expect(two.map((f) => f.name)).toEqual(["Screenshot 2026-11-27 09.05.07 (1).png", "Screenshot 2026-11-27 09.05.07 (2).jpeg"]);
  });

  it("keep a name the user gave them (a file copied in a file manager)", () => {
    const own = png("회의실 화이트보드.png");
    expect(namePasted([own], "스크린샷", at)).toEqual([own]);
  });
});

describe("a drop", () => {
  const item = (file: File, directory = false) => ({
    kind: "file",
    getAsFile: () => file,
    webkitGetAsEntry: () => ({ isDirectory: directory, name: file.name }),
  });

  it("sets folders apart and keeps the files in order", () => {
    const a = png("영수증.png");
    const folder = new File([], "폴더테스트");
    const b = png("b.png");
    const out = droppedFiles({ items: [item(a), item(folder, true), item(b), { kind: "string", getAsFile: () => null }], files: [a, folder, b] });
    expect(out.files).toEqual([a, b]);
    expect(out.folders).toEqual(["폴더테스트"]);
  });

  it("takes the file list as it is where the browser gives no entries", () => {
    const a = png("a.png");
    expect(droppedFiles({ items: [{ kind: "file", getAsFile: () => a }], files: [a] })).toEqual({ files: [a], folders: [] });
    expect(droppedFiles({ items: null, files: [a] })).toEqual({ files: [a], folders: [] });
  });
});
