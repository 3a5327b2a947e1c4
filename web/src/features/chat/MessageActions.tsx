import { useState } from "react";
import { useTranslation } from "react-i18next";
import { REACTIONS, type ReactionKind } from "../../lib/model";
import { REACTION_EMOJI } from "./reactions";

export interface MessageActionsProps {
  mine: boolean;
  canModerate: boolean;
  canEdit: boolean;
  onReply(): void;
  onReact(reaction: ReactionKind): void;
  /** Copies the text; not given for a message without any (a file sent without a caption). */
  onCopy?: () => void;
  onEdit(): void;
  onUnsend(): void;
  onNotice(): void;
  onHide(): void;
}

/** The hover (and keyboard-focus) toolbar of a message: 공감, reply, copy, edit, unsend, notice. */
export function MessageActions(props: MessageActionsProps) {
  const { t } = useTranslation();
  const [picking, setPicking] = useState(false);
  return (
    <div className="message-actions" role="toolbar" aria-label={t("chat.actions")}>
      {picking ? (
        <div className="reaction-picker" role="group" aria-label={t("chat.react")}>
          {REACTIONS.map((r) => (
            <button
              key={r}
              type="button"
              aria-label={t(`reaction.${r}`)}
              title={t(`reaction.${r}`)}
              onClick={() => {
                setPicking(false);
                props.onReact(r);
              }}
            >
              {REACTION_EMOJI[r]}
            </button>
          ))}
        </div>
      ) : null}
      <button type="button" onClick={() => setPicking((v) => !v)} aria-expanded={picking} aria-label={t("chat.react")} title={t("chat.react")}>
        ☺
      </button>
      <button type="button" onClick={props.onReply}>
        {t("chat.reply")}
      </button>
      {props.onCopy ? (
        <button type="button" onClick={props.onCopy}>
          {t("chat.copy")}
        </button>
      ) : null}
      {props.mine && props.canEdit ? (
        <button type="button" onClick={props.onEdit}>
          {t("chat.edit")}
        </button>
      ) : null}
      {props.mine ? (
        <button type="button" onClick={props.onUnsend}>
          {t("chat.unsend")}
        </button>
      ) : null}
      {props.canModerate ? (
        <button type="button" onClick={props.onNotice}>
          {t("chat.setNotice")}
        </button>
      ) : null}
      {props.canModerate && !props.mine ? (
        <button type="button" onClick={props.onHide}>
          {t("chat.hide")}
        </button>
      ) : null}
    </div>
  );
}
