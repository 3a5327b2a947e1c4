/** How file sizes and names are shown. */

const UNITS = ["B", "KB", "MB", "GB", "TB"] as const;

/**
 * A size in binary units (1 KB = 1024 B, as the 300 MB limit is meant), with the locale's digits:
 * "512 B", "1.5 KB", "23 MB", "1,024 GB". One decimal below 10, none above.
 */
export function formatBytes(bytes: number, locale: string): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 KB would print as "1,024 KB": round first, then move up a unit if it reached 1024.
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  const factor = 10 ** digits;
  let rounded = Math.round(value * factor) / factor;
  if (rounded >= 1024 && unit < UNITS.length - 1) {
    rounded = 1;
    unit += 1;
  }
  const text = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(rounded);
  return `${text} ${UNITS[unit]}`;
}

/** "12 MB / 300 MB" style progress, in the same units. */
export function formatProgress(sent: number, total: number, locale: string): string {
  return `${formatBytes(sent, locale)} / ${formatBytes(total, locale)}`;
}

/**
 * Splits text into user-perceived characters, so a cut never falls inside one: an emoji with its
 * modifiers, or a Hangul syllable stored decomposed (NFD, as macOS names files) as 2-3 jamo.
 */
export function graphemes(text: string): string[] {
  const Segmenter = (Intl as { Segmenter?: typeof Intl.Segmenter }).Segmenter;
  if (Segmenter) return [...new Segmenter(undefined, { granularity: "grapheme" }).segment(text)].map((s) => s.segment);
  return Array.from(text);
}

/**
 * Splits a file name for an ellipsis in the middle: the tail (the last few characters of the stem
 * and the extension) always shows, the head is cut by CSS (`text-overflow: ellipsis`) to whatever
 * width there is, so "2026년 1분기 영업 실적 보고서 최종본 수정.pdf" reads "2026년 1분기 영…본 수정.pdf"
 * on a narrow card and in full on a wide one. Counts graphemes, never UTF-16 units. The tail is
 * empty when the name is short.
 */
export function splitFileName(name: string, tailLength?: number): { head: string; tail: string } {
  const chars = graphemes(name);
  const dot = chars.lastIndexOf(".");
  const extLength = dot > 0 ? chars.length - dot : 0;
  // A real extension is short; "v1.0 배포 계획" has none.
  const ext = extLength > 1 && extLength <= 10 ? extLength : 0;
  // Up to 6 characters of the stem's end, fewer for a shorter stem (a third of it, at least 3),
  // so a narrow card still shows the start of the name too.
  const stem = chars.length - ext;
  const keep = ext + (tailLength ?? Math.min(6, Math.max(3, Math.floor(stem / 3))));
  if (chars.length <= keep + 2) return { head: name, tail: "" };
  // Spaces at the split go with the head: cut off with it rather than opening a gap after "…".
  let split = chars.length - keep;
  while (split < chars.length - 1 && /^\s+$/u.test(chars[split] as string)) split += 1;
  return { head: chars.slice(0, split).join(""), tail: chars.slice(split).join("") };
}
