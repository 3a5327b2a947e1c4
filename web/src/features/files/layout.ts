/**
 * Sizes of attachments in a bubble, decided before any image loads so the history never jumps
 * (and so the virtual list's height estimates match; styles.css uses the same numbers).
 */
import type { Attachment } from "./types";

export const THUMB_MAX = 240;
const THUMB_MIN = 48;
export const GRID_CELL = 96;
export const GRID_GAP = 4;
export const CARD_HEIGHT = 60;
const CARD_GAP = 6;
const GROUP_GAP = 6;

/** Images and videos shown as pictures; the rest (and media without a preview) as file cards. */
export function isVisual(a: Pick<Attachment, "kind" | "thumbnail">): boolean {
  return (a.kind === "image" || a.kind === "video") && a.thumbnail !== "none" && a.thumbnail !== "failed";
}

/** A single picture's box: its aspect ratio within THUMB_MAX square, never below THUMB_MIN. */
export function thumbBox(a: Pick<Attachment, "width" | "height">): { width: number; height: number } {
  const w = a.width ?? 0;
  const h = a.height ?? 0;
  if (w <= 0 || h <= 0) return { width: 200, height: 150 };
  const scale = Math.min(1, THUMB_MAX / Math.max(w, h));
  return {
    width: Math.max(THUMB_MIN, Math.round(w * scale)),
    height: Math.max(THUMB_MIN, Math.round(h * scale)),
  };
}

/** Columns of the photo grid: 3, or 2 on a narrow screen (styles.css, max-width 599px). */
export function gridColumns(): number {
  return typeof window !== "undefined" && window.matchMedia?.("(max-width: 599px)").matches ? 2 : 3;
}

/** The height the attachments of one message take in its bubble. */
export function attachmentsHeight(list: readonly Attachment[], columns = 3): number {
  const visual = list.filter(isVisual);
  const cards = list.length - visual.length;
  let height = 0;
  if (visual.length === 1 && visual[0]) height += thumbBox(visual[0]).height;
  else if (visual.length > 1) {
    const rows = Math.ceil(visual.length / columns);
    height += rows * GRID_CELL + (rows - 1) * GRID_GAP;
  }
  if (cards > 0) height += (visual.length > 0 ? GROUP_GAP : 0) + cards * CARD_HEIGHT + (cards - 1) * CARD_GAP;
  return height;
}
