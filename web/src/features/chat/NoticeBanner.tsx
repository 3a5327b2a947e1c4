import { useState } from "react";
import { useTranslation } from "react-i18next";
import { plainText } from "../../lib/linkify";
import type { Message } from "../../lib/model";
import { Icon } from "../../ui/Icon";

export interface NoticeBannerProps {
  notice: Message;
  nameOf(userId: number): string | null;
  canClear: boolean;
  onClear(): void;
  onJump(seq: number): void;
}

export function NoticeBanner({ notice, nameOf, canClear, onClear, onJump }: NoticeBannerProps) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const text = notice.body === null ? t("chat.unsent") : plainText(notice.body, nameOf, t("chat.mentionAll"));
  return (
    <div className={`notice-banner${open ? " open" : ""}`} role="region" aria-label={t("chat.notice")}>
      <Icon name="notice" size={18} />
      <button type="button" className="notice-text" onClick={() => setOpen((v) => !v)} aria-expanded={open}>
        {text}
      </button>
      <button type="button" className="link-button" onClick={() => onJump(notice.seq)}>
        {t("chat.viewMessage")}
      </button>
      {canClear ? (
        <button type="button" className="link-button" onClick={onClear}>
          {t("chat.clearNotice")}
        </button>
      ) : null}
    </div>
  );
}
