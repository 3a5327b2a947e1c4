import type { MouseEvent } from "react";
import { useTranslation } from "react-i18next";
import { Icon } from "../../ui/Icon";
import { downloadPermission } from "./scan";
import { type Attachment, fileUrl } from "./types";
import { useMedia } from "./useMedia";

export interface DownloadLinkProps {
  attachment: Pick<Attachment, "id" | "file_name" | "scan_state" | "downloadable">;
  mine: boolean;
  /** Show the word next to the icon. */
  withLabel?: boolean;
}

/**
 * A plain link with `download` (the browser streams the file to disk; a 300 MB file never sits
 * in memory), or a disabled button saying why not.
 */
export function DownloadLink({ attachment, mine, withLabel = false }: DownloadLinkProps) {
  const { t } = useTranslation();
  const media = useMedia();
  const permission = downloadPermission(attachment, mine);
  const label = t("files.downloadName", { name: attachment.file_name });
  if (!permission.allowed) {
    const why = permission.reason ? t(permission.reason) : "";
    return (
      <button type="button" className="download-link" disabled aria-label={`${label} — ${why}`} title={why}>
        <Icon name="download" size={20} />
        {withLabel ? <span>{t("files.download")}</span> : null}
      </button>
    );
  }
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (!media.stale()) return;
    // The media cookie is about to expire: refresh it first, then start the same download.
    e.preventDefault();
    const link = e.currentTarget;
    void media.freshen().then(() => link.click());
  };
  return (
    <a className="download-link" href={fileUrl(attachment.id)} download={attachment.file_name} aria-label={label} title={label} onClick={onClick}>
      <Icon name="download" size={20} />
      {withLabel ? <span>{t("files.download")}</span> : null}
    </a>
  );
}
