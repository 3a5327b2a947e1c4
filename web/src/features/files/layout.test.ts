import { describe, expect, it } from "vitest";
import { attachment } from "../../test/factories";
import { GRID_CELL, GRID_GAP, attachmentsHeight } from "./layout";

describe("attachmentsHeight", () => {
  const photos = Array.from({ length: 10 }, (_, i) => attachment({ id: i + 1, kind: "image", thumbnail: "ready", width: 800, height: 600 }));

  it("counts the grid's rows for the columns the screen shows (3, or 2 on a phone)", () => {
    expect(attachmentsHeight(photos, 3)).toBe(4 * GRID_CELL + 3 * GRID_GAP);
    expect(attachmentsHeight(photos, 2)).toBe(5 * GRID_CELL + 4 * GRID_GAP);
  });
});
