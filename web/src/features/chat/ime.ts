/**
 * The Enter rule of the composer with a Korean (or any) IME.
 *
 * While a syllable is being composed, Enter belongs to the IME: Chromium sends keydown with
 * `isComposing` true (keyCode 229); Safari sends compositionend first and then a keydown that still
 * has keyCode 229. Sending on either would send the text without its last syllable and leave the
 * syllable behind, to be sent a second time. So Enter sends only when no composition is active and
 * the key is a real Enter (not 229), and the text is read after compositionend has committed it.
 */
export interface ComposerKey {
  key: string;
  keyCode: number;
  isComposing: boolean;
  shiftKey: boolean;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

export type ComposerKeyAction = "send" | "newline" | "ime" | "none";

export function composerKeyAction(e: ComposerKey, compositionActive: boolean): ComposerKeyAction {
  if (e.key !== "Enter" && e.keyCode !== 13 && e.keyCode !== 229) return "none";
  if (e.isComposing || e.keyCode === 229 || compositionActive) return "ime";
  if (e.key !== "Enter") return "none";
  if (e.shiftKey || e.altKey) return "newline";
  return "send";
}

/** Tracks composition state from compositionstart / compositionend, which keydown alone can't. */
export class CompositionTracker {
  private active = false;

  start(): void {
    this.active = true;
  }

  end(): void {
    this.active = false;
  }

  get isActive(): boolean {
    return this.active;
  }
}
