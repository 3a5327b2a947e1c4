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

/** How the screen lays attachments out (styles.css): the grid's columns, a single photo's width. */
export interface ScreenLayout {
  columns: number;
  maxThumbWidth: number;
}

/**
 * 3 columns, or 2 on a narrow screen (max-width 599px), where a single photo is also narrowed to
 * its bubble: 78 % of the screen (`.msg-column`) less the time column and the bubble's padding.
 */
export function screenLayout(): ScreenLayout {
  if (typeof window === "undefined" || !window.matchMedia?.("(max-width: 599px)").matches) {
    return { columns: 3, maxThumbWidth: THUMB_MAX };
  }
  return { columns: 2, maxThumbWidth: Math.max(THUMB_MIN, Math.min(THUMB_MAX, Math.floor(window.innerWidth * 0.78) - 62)) };
}

/** The height the attachments of one message take in its bubble. */
export function attachmentsHeight(
  list: readonly Attachment[],
  screen: ScreenLayout = { columns: 3, maxThumbWidth: THUMB_MAX },
): number {
  const visual = list.filter(isVisual);
  const cards = list.length - visual.length;
  let height = 0;
  if (visual.length === 1 && visual[0]) {
    const box = thumbBox(visual[0]);
    // Narrowed to the bubble (max-width: 100%), it keeps its shape.
    height += box.width > screen.maxThumbWidth ? Math.round((box.height * screen.maxThumbWidth) / box.width) : box.height;
  } else if (visual.length > 1) {
    const rows = Math.ceil(visual.length / screen.columns);
    height += rows * GRID_CELL + (rows - 1) * GRID_GAP;
  }
  if (cards > 0) height += (visual.length > 0 ? GROUP_GAP : 0) + cards * CARD_HEIGHT + (cards - 1) * CARD_GAP;
  return height;
}
