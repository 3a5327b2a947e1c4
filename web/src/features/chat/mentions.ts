/** The "@query" being typed right before the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@<>]{0,20})$/u.exec(before);
  if (!match) return null;
  return { start: before.length - match[2]!.length - 1, query: match[2] ?? "" };
}

export interface PickedMention {
  userId: number | "all";
  label: string;
}

/**
 * Turns the "@이름" the user picked into the server's tokens (<@123>, <@all>). Only picked names
 * become mentions; an "@" typed by hand stays text. Longer names first so "@김민수" is not
 * consumed by a pick of "@김민".
 */
export function encodeMentions(text: string, picked: readonly PickedMention[]): string {
  const sorted = [...picked].sort((a, b) => b.label.length - a.label.length);
  let out = text;
  for (const p of sorted) {
    const token = p.userId === "all" ? "<@all>" : `<@${p.userId}>`;
    out = out.split(`@${p.label}`).join(token);
  }
  return out;
}
