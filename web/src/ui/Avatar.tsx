import type { PresenceStatus } from "../lib/model";
import { PresenceDot } from "./PresenceDot";

const COLOURS = ["#f4a261", "#2a9d8f", "#e76f51", "#8ab17d", "#6d597a", "#457b9d", "#e9c46a", "#b56576"];

export interface AvatarProps {
  name: string;
  seed: number;
  size?: number;
  presence?: PresenceStatus | null;
  group?: boolean;
}

/** A rounded-square initial avatar (KakaoTalk's squircle), with an optional presence dot. */
export function Avatar({ name, seed, size = 40, presence = null, group = false }: AvatarProps) {
  const initial = Array.from(name.trim())[0] ?? "?";
  const colour = COLOURS[Math.abs(seed) % COLOURS.length];
  return (
    <span className={`avatar${group ? " avatar-group" : ""}`} style={{ width: size, height: size, background: colour, fontSize: size * 0.42 }} aria-hidden="true">
      {initial}
      {presence ? <PresenceDot status={presence} /> : null}
    </span>
  );
}
