import { describe, expect, it } from "vitest";
import { createI18n, errorText, initialLocale } from "./i18n";
import { en } from "./locales/en";
import { ko } from "./locales/ko";

function keys(obj: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe("i18n", () => {
  it("Korean and English have the same keys", () => {
    expect(keys(en).filter((k) => !k.endsWith("_one")).sort()).toEqual(keys(ko).sort());
  });

  it("Korean is the default; English only when chosen", () => {
    expect(initialLocale(null)).toBe("ko");
    expect(initialLocale("en")).toBe("en");
    expect(initialLocale("fr")).toBe("ko");
  });

  it("translates server error codes, with a fallback for unknown codes", () => {
    const i18n = createI18n("ko");
    expect(errorText(i18n.t.bind(i18n), "invalid_credentials")).toBe("아이디 또는 비밀번호가 올바르지 않습니다.");
    expect(errorText(i18n.t.bind(i18n), "no_such_code")).toBe(ko.errors.unknown);
  });
});
