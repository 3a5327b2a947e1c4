import { useTranslation } from "react-i18next";
import { DownloadLink } from "./DownloadLink";
import { FileIcon } from "./FileIcon";
import { formatBytes } from "./format";
import { FileName } from "./FileName";
import { ScanBadge } from "./ScanBadge";
import { showScanBadge, downloadPermission } from "./scan";
import { useVirusScanning } from "./useMedia";
import type { Attachment } from "./types";

export interface FileCardProps {
  attachment: Attachment;
  mine: boolean;
  /** Extra line under the name (the drawer puts the date and sender there). */
  detail?: string;
}

/** A file in a bubble or the drawer: icon, name (shortened in the middle), size, scan state, download. */
export function FileCard({ attachment: a, mine, detail }: FileCardProps) {
  const { t, i18n } = useTranslation();
  const permission = downloadPermission(a, mine);
  const scanning = useVirusScanning();
  return (
    <div className="file-card" data-attachment-id={a.id} data-scan={a.scan_state}>
      <FileIcon kind={a.kind} />
      <div className="file-card-main">
        <FileName name={a.file_name} />
        <span className="file-meta">
          <span className="file-size">{formatBytes(a.size, i18n.language)}</span>
          {showScanBadge(a, scanning) ? <ScanBadge attachment={a} /> : null}
        </span>
        {detail ? <span className="file-detail">{detail}</span> : null}
        {!permission.allowed && permission.reason ? <span className="file-blocked">{t(permission.reason)}</span> : null}
      </div>
      <DownloadLink attachment={a} mine={mine} />
    </div>
  );
}
