/** The one message shown when files picked, dropped or pasted into the tray were refused. */
import type { TFunction } from "i18next";
import type { Rejection } from "./uploads";

/** At most this many names are spelled out; the rest are counted ("a, b, c 외 4개"). */
export const NAMES_SHOWN = 3;

/** Joins names the locale's way ("a, b 및 c" / "a, b, and c"), naming at most `NAMES_SHOWN`. */
export function listNames(names: readonly string[], t: TFunction, locale: string): string {
  const shown = names.slice(0, NAMES_SHOWN);
  const rest = names.length - shown.length;
  if (rest > 0) return t("files.namesAndMore", { names: shown.join(", "), count: rest });
  const ListFormat = (Intl as { ListFormat?: typeof Intl.ListFormat }).ListFormat;
  return ListFormat ? new ListFormat(locale, { type: "conjunction" }).format(shown) : shown.join(", ");
}

/**
 * One sentence per reason (dropped folders, too large, too many), whatever the number of files refused: "a, b: 300 MB보다 큰 파일은 보낼
 * 수 없습니다." and "한 번에 10개까지 … c 외 4개 파일은 제외했습니다."; null when nothing was refused.
 */
export function rejectionText(
  rejected: readonly Rejection[],
  t: TFunction,
  locale: string,
  limits: { maxSize: string; maxCount: number },
): string | null {
  const tooLarge = rejected.filter((r) => r.code === "too_large").map((r) => r.name);
  const tooMany = rejected.filter((r) => r.code === "too_many").map((r) => r.name);
  const folders = rejected.filter((r) => r.code === "folder").map((r) => r.name);
  const parts: string[] = [];
  if (folders.length > 0) parts.push(t("files.folder", { name: listNames(folders, t, locale) }));
  if (tooLarge.length > 0) parts.push(t("files.tooLarge", { name: listNames(tooLarge, t, locale), max: limits.maxSize }));
  if (tooMany.length > 0) parts.push(t("files.tooMany", { name: listNames(tooMany, t, locale), max: limits.maxCount }));
  return parts.length > 0 ? parts.join(" ") : null;
}
