import { describe, expect, it } from "vitest";
import { type ComposerKey, composerKeyAction } from "./ime";

const key = (overrides: Partial<ComposerKey>): ComposerKey => ({
  key: "Enter",
  keyCode: 13,
  isComposing: false,
  shiftKey: false,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  ...overrides,
});

describe("the composer's Enter rule with an IME", () => {
  it("Enter sends when nothing is being composed", () => {
    expect(composerKeyAction(key({}), false)).toBe("send");
  });

  it("Shift+Enter makes a new line", () => {
    expect(composerKeyAction(key({ shiftKey: true }), false)).toBe("newline");
  });

  it("never sends while the IME composes (Chromium: isComposing, keyCode 229)", () => {
    expect(composerKeyAction(key({ isComposing: true, keyCode: 229 }), true)).toBe("ime");
    expect(composerKeyAction(key({ isComposing: true }), false)).toBe("ime");
  });

  it("never sends on the keydown that follows compositionend with keyCode 229 (Safari)", () => {
    expect(composerKeyAction(key({ keyCode: 229, key: "Enter" }), false)).toBe("ime");
    expect(composerKeyAction(key({ keyCode: 229, key: "Process" }), false)).toBe("ime");
  });

  it("never sends while a composition is known to be active even if keydown says otherwise", () => {
    expect(composerKeyAction(key({}), true)).toBe("ime");
  });

  it("other keys are not the composer's business", () => {
    expect(composerKeyAction(key({ key: "a", keyCode: 65 }), false)).toBe("none");
  });
});
