import { Icon } from "../../ui/Icon";
import type { AttachmentKind } from "./types";

const ICONS: Record<AttachmentKind, string> = { image: "image", video: "video", audio: "audio", file: "file" };

/** The icon of a file by its kind, on a tinted tile. */
export function FileIcon({ kind, size = 36 }: { kind: AttachmentKind; size?: number }) {
  return (
    <span className={`file-icon file-icon-${kind}`} style={{ width: size, height: size }} aria-hidden="true">
      <Icon name={ICONS[kind]} size={Math.round(size * 0.6)} />
    </span>
  );
}
