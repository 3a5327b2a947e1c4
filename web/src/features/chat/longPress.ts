import { type MouseEvent, type PointerEvent, type RefObject, useEffect, useRef } from "react";

/** How long a finger rests on a message before its actions open (as in KakaoTalk). */
export const LONG_PRESS_MS = 500;
/** A finger that moves this far is scrolling, not pressing. */
const SLOP_PX = 10;

/**
 * Touch and pen only: `onLongPress` after the finger has rested LONG_PRESS_MS; the click that
 * follows is swallowed (a long press on a photo must not also open the viewer), and so is the
 * browser's own long-press menu. A mouse keeps hover and right-click as they are.
 */
export function useLongPress(onLongPress: () => void) {
  const timer = useRef<number | null>(null);
  const settle = useRef<number | null>(null);
  const start = useRef<{ x: number; y: number } | null>(null);
  const fired = useRef(false);
  const callback = useRef(onLongPress);
  callback.current = onLongPress;

  const clear = () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  };
  useEffect(
    () => () => {
      clear();
      if (settle.current !== null) window.clearTimeout(settle.current);
    },
    [],
  );
  // The click a browser may send right after the finger lifts is swallowed; later clicks are not
  // (many browsers send none after a long press, and a keyboard or screen reader click has no
  // press before it).
  const release = () => {
    clear();
    if (!fired.current) return;
    if (settle.current !== null) window.clearTimeout(settle.current);
    settle.current = window.setTimeout(() => {
      settle.current = null;
      fired.current = false;
    }, 400);
  };

  return {
    onPointerDown(e: PointerEvent<HTMLElement>) {
      // Any new press (a tap on an action, a mouse) ends the swallowing: a long press that the
      // browser did not follow with a click must not eat the next one.
      fired.current = false;
      clear();
      if (e.pointerType === "mouse") return;
      start.current = { x: e.clientX, y: e.clientY };
      timer.current = window.setTimeout(() => {
        timer.current = null;
        fired.current = true;
        callback.current();
      }, LONG_PRESS_MS);
    },
    onPointerMove(e: PointerEvent<HTMLElement>) {
      const from = start.current;
      if (from && Math.hypot(e.clientX - from.x, e.clientY - from.y) > SLOP_PX) clear();
    },
    onPointerUp: release,
    onPointerCancel: release,
    onClickCapture(e: MouseEvent<HTMLElement>) {
      if (!fired.current || e.detail === 0) return;
      fired.current = false;
      e.preventDefault();
      e.stopPropagation();
    },
    onContextMenu(e: MouseEvent<HTMLElement>) {
      // The long press's own menu (copy image, open in new tab) would cover the actions.
      if (fired.current || timer.current !== null) e.preventDefault();
    },
  };
}

/** While `active`, a press anywhere outside `ref`'s element calls `onOutside` (menus, pickers). */
export function usePressOutside(ref: RefObject<HTMLElement | null>, active: boolean, onOutside: () => void): void {
  const callback = useRef(onOutside);
  callback.current = onOutside;
  useEffect(() => {
    if (!active) return;
    const away = (e: globalThis.PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) callback.current();
    };
    document.addEventListener("pointerdown", away, true);
    return () => document.removeEventListener("pointerdown", away, true);
  }, [active, ref]);
}
