import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { REACTIONS, type ReactionKind } from "../../lib/model";
import { usePressOutside } from "./longPress";
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
  /** An action was chosen (the toolbar opened by a long press closes then). */
  onDone?: () => void;
}

/** The hover (and keyboard-focus) toolbar of a message: 공감, reply, copy, edit, unsend, notice. */
export function MessageActions(props: MessageActionsProps) {
  const { t } = useTranslation();
  const [picking, setPicking] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  // The reaction picker closes on a press outside the toolbar (and with Escape, below).
  usePressOutside(ref, picking, () => setPicking(false));
  const done = (action: () => void) => () => {
    setPicking(false);
    action();
    props.onDone?.();
  };
  return (
    <div
      className="message-actions"
      role="toolbar"
      aria-label={t("chat.actions")}
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === "Escape" && picking) {
          e.stopPropagation();
          setPicking(false);
        }
      }}
    >
      {picking ? (
        <div className="reaction-picker" role="group" aria-label={t("chat.react")}>
          {REACTIONS.map((r) => (
            <button
              key={r}
              type="button"
              aria-label={t(`reaction.${r}`)}
              title={t(`reaction.${r}`)}
              onClick={done(() => props.onReact(r))}
            >
              {REACTION_EMOJI[r]}
            </button>
          ))}
        </div>
      ) : null}
      <button type="button" onClick={() => setPicking((v) => !v)} aria-expanded={picking} aria-label={t("chat.react")} title={t("chat.react")}>
        ☺
      </button>
      <button type="button" onClick={done(props.onReply)}>
        {t("chat.reply")}
      </button>
      {props.onCopy ? (
        <button type="button" onClick={done(props.onCopy)}>
          {t("chat.copy")}
        </button>
      ) : null}
      {props.mine && props.canEdit ? (
        <button type="button" onClick={done(props.onEdit)}>
          {t("chat.edit")}
        </button>
      ) : null}
      {props.mine ? (
        <button type="button" onClick={done(props.onUnsend)}>
          {t("chat.unsend")}
        </button>
      ) : null}
      {props.canModerate ? (
        <button type="button" onClick={done(props.onNotice)}>
          {t("chat.setNotice")}
        </button>
      ) : null}
      {props.canModerate && !props.mine ? (
        <button type="button" onClick={done(props.onHide)}>
          {t("chat.hide")}
        </button>
      ) : null}
    </div>
  );
}
