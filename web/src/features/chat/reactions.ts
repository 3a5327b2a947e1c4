import type { ReactionKind } from "../../lib/model";

/** KakaoTalk's six 공감 reactions. */
export const REACTION_EMOJI: Record<ReactionKind, string> = {
  heart: "❤️",
  like: "👍",
  check: "✅",
  laugh: "😆",
  surprise: "😮",
  sad: "😢",
};
