import { describe, expect, it } from "vitest";
import { encodeMentions, mentionQuery } from "./mentions";

describe("mention autocomplete", () => {
  it("finds the @query before the caret", () => {
    expect(mentionQuery("안녕 @김", 5)).toEqual({ start: 3, query: "김" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("mail@host", 9)).toBeNull();
    expect(mentionQuery("@김 다음", 6)).toBeNull();
  });

  it("encodes only picked names, longest first", () => {
    const text = "@김민수 @김민 님 그리고 @모두 @없는사람";
    expect(
      encodeMentions(text, [
        { userId: 2, label: "김민" },
        { userId: 3, label: "김민수" },
        { userId: "all", label: "모두" },
      ]),
    ).toBe("<@3> <@2> 님 그리고 <@all> @없는사람");
  });
});
