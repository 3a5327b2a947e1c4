import { describe, expect, it } from "vitest";
import { attachment } from "../../test/factories";
import { GRID_CELL, GRID_GAP, THUMB_MAX, attachmentsHeight } from "./layout";

describe("attachmentsHeight", () => {
  const photo = (id: number) => attachment({ id, kind: "image", thumbnail: "ready", width: 800, height: 600 });
  const photos = Array.from({ length: 10 }, (_, i) => photo(i + 1));

  it("counts the grid's rows for the columns the screen shows (3, or 2 on a phone)", () => {
    expect(attachmentsHeight(photos, { columns: 3, maxThumbWidth: THUMB_MAX })).toBe(4 * GRID_CELL + 3 * GRID_GAP);
    expect(attachmentsHeight(photos, { columns: 2, maxThumbWidth: THUMB_MAX })).toBe(5 * GRID_CELL + 4 * GRID_GAP);
  });

  it("narrows a single photo to the bubble keeping its shape", () => {
    expect(attachmentsHeight([photo(1)])).toBe(180); // 240 x 180
    expect(attachmentsHeight([photo(1)], { columns: 2, maxThumbWidth: 212 })).toBe(159);
  });
});
