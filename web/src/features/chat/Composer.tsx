import { type ClipboardEvent, type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Member, Message } from "../../lib/model";
import { Icon } from "../../ui/Icon";
import { AttachmentTray } from "../files/AttachmentTray";
import { namePasted } from "../files/incoming";
import { filesPreview } from "../files/preview";
import { type ArmedSend, type UploadItem, blockingUploads } from "../files/uploads";
import { CompositionTracker, composerKeyAction } from "./ime";
import { type MentionCandidate, MentionPicker } from "./MentionPicker";
import { type PickedMention, encodeMentions, mentionQuery } from "./mentions";

export interface ComposerProps {
  roomId: number;
  myUserId: number;
  members: Member[];
  replyTo: Message | null;
  replyName: string;
  initialDraft: string;
  onDraft(text: string): void;
  onSend(body: string, replyToId: number | null): void;
  onCancelReply(): void;
  onTyping(): void;
  /** The room's files on their way (kept by the session across room switches and reloads). */
  uploads: UploadItem[];
  armed: ArmedSend | null;
  onAddFiles(files: File[]): void;
  /** Send the files with this caption (`draft` is the text as typed, to give back if taken back). */
  onSendFiles(body: string, draft: string, replyToId: number | null): void;
  uploadActions: { pause(localId: string): void; resume(localId: string): void; cancel(localId: string): void; disarm(): void };
}

const TYPING_EVERY_MS = 3_000;

/**
 * The message box. Enter sends and Shift+Enter breaks the line, except while an IME composes
 * (see ime.ts): then Enter belongs to the IME, so a Korean syllable is never cut off or sent twice.
 */
export function Composer(props: ComposerProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLTextAreaElement>(null);
  const tracker = useMemo(() => new CompositionTracker(), []);
  const [text, setText] = useState(props.initialDraft);
  const [picked, setPicked] = useState<PickedMention[]>([]);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const lastTyping = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    ref.current?.focus();
  }, [props.roomId, props.replyTo]);

  useEffect(() => {
    // Enter pressed mid-composition belongs to the IME: never a line break in the text. (React's
    // onBeforeInput is not the native event and has no inputType, so listen natively.)
    const el = ref.current;
    if (!el) return;
    const onBeforeInput = (e: InputEvent) => {
      if (tracker.isActive && (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph")) e.preventDefault();
    };
    el.addEventListener("beforeinput", onBeforeInput);
    return () => el.removeEventListener("beforeinput", onBeforeInput);
  }, [tracker]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const query = dismissed ? null : mentionQuery(text, caret);
  const candidates: MentionCandidate[] = useMemo(() => {
    if (!query) return [];
    const q = query.query.toLocaleLowerCase();
    const people = props.members
      .filter((m) => m.user_id !== props.myUserId && m.display_name.toLocaleLowerCase().includes(q))
      .slice(0, 8)
      .map((m) => ({ userId: m.user_id, label: m.display_name }) as MentionCandidate);
    const allLabel = t("chat.mentionAll");
    if (props.members.length > 2 && (q === "" || allLabel.toLocaleLowerCase().includes(q) || "all".includes(q))) {
      people.push({ userId: "all", label: allLabel });
    }
    return people;
  }, [query, props.members, props.myUserId, t]);

  function update(value: string, caretAt: number) {
    setText(value);
    setCaret(caretAt);
    setDismissed(false);
    setActive(0);
    props.onDraft(value);
    const now = Date.now();
    if (value && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now;
      props.onTyping();
    }
  }

  function pick(c: MentionCandidate) {
    if (!query) return;
    const before = text.slice(0, query.start);
    const after = text.slice(caret);
    const insert = `@${c.label} `;
    const value = before + insert + after;
    setPicked((p) => [...p.filter((x) => x.label !== c.label), { userId: c.userId, label: c.label }]);
    update(value, before.length + insert.length);
    requestAnimationFrame(() => {
      const el = ref.current;
      if (el) el.selectionStart = el.selectionEnd = before.length + insert.length;
    });
  }

  function send() {
    // Read the DOM value: after compositionend it holds the committed last syllable.
    const raw = ref.current?.value ?? text;
    const withFiles = props.uploads.length > 0;
    // A file that failed for good would hold the send forever: the tray asks to remove it first.
    if (withFiles && blockingUploads(props.uploads).length > 0) return;
    // With files, a send waits for them to upload; an empty one while it waits changes nothing.
    if (!raw.trim() && (!withFiles || props.armed)) return;
    const body = raw.trim() ? encodeMentions(raw.replace(/\s+$/u, ""), picked) : "";
    if (withFiles) props.onSendFiles(body, raw.trim() ? raw : "", props.replyTo?.id ?? null);
    else props.onSend(body, props.replyTo?.id ?? null);
    setText("");
    setPicked([]);
    props.onDraft("");
  }

  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    // Only a pasted picture (a screenshot) is taken as a file. Anything with text, such as cells
    // from a spreadsheet that also carry an image of themselves, pastes as text, and the IME is
    // never involved: nothing is intercepted then.
    const files = [...e.clipboardData.files];
    if (files.length === 0 || e.clipboardData.types.includes("text/plain")) return;
    e.preventDefault();
    props.onAddFiles(namePasted(files, t("files.pastedName"), new Date()));
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    const native = e.nativeEvent;
    const composing = native.isComposing || native.keyCode === 229 || tracker.isActive;
    if (candidates.length > 0 && !composing) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setActive((a) => (a + (e.key === "ArrowDown" ? 1 : candidates.length - 1)) % candidates.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        const c = candidates[active];
        if (c) pick(c);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setDismissed(true);
        return;
      }
    }
    if (e.key === "Escape" && props.replyTo) {
      props.onCancelReply();
      return;
    }
    const action = composerKeyAction(
      {
        key: e.key,
        keyCode: native.keyCode,
        isComposing: native.isComposing,
        shiftKey: e.shiftKey,
        altKey: e.altKey,
        ctrlKey: e.ctrlKey,
        metaKey: e.metaKey,
      },
      tracker.isActive,
    );
    if (action === "send") {
      e.preventDefault();
      send();
    }
  }

  return (
    <div className="composer">
      {props.replyTo ? (
        <div className="composer-reply">
          <span className="composer-reply-label">{t("chat.replyTo", { name: props.replyName })}</span>
          <span className="composer-reply-body">{props.replyTo.body?.trim() ? props.replyTo.body : (filesPreview(props.replyTo, t) ?? "")}</span>
          <button type="button" className="icon-button" onClick={props.onCancelReply} aria-label={t("chat.cancelReply")}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ) : null}
      <AttachmentTray
        items={props.uploads}
        armed={props.armed}
        onPause={props.uploadActions.pause}
        onResume={props.uploadActions.resume}
        onCancel={props.uploadActions.cancel}
        onDisarm={props.uploadActions.disarm}
        onPickAgain={() => fileInput.current?.click()}
      />
      <MentionPicker candidates={candidates} active={active} onPick={pick} />
      <div className="composer-row">
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            // Cleared so that picking the same file again (to resume it) fires a change.
            e.currentTarget.value = "";
            if (files.length > 0) props.onAddFiles(files);
          }}
        />
        <button
          type="button"
          className="icon-button attach-button"
          onClick={() => fileInput.current?.click()}
          aria-label={t("files.attach")}
          title={t("files.attach")}
        >
          <Icon name="clip" />
        </button>
        <textarea
          ref={ref}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={t("chat.placeholder")}
          aria-label={t("chat.placeholder")}
          aria-autocomplete="list"
          aria-expanded={candidates.length > 0}
          aria-controls={candidates.length > 0 ? "mention-picker" : undefined}
          onChange={(e) => update(e.target.value, e.target.selectionStart)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onCompositionStart={() => tracker.start()}
          onCompositionEnd={(e) => {
            tracker.end();
            update(e.currentTarget.value, e.currentTarget.selectionStart);
          }}
          onBlur={() => tracker.end()}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          maxLength={200000}
        />
        <button type="button" className="send-button" onClick={send} disabled={blockingUploads(props.uploads).length > 0 || (!text.trim() && (props.uploads.length === 0 || props.armed !== null))} aria-label={t("chat.send")}>
          {t("chat.send")}
        </button>
      </div>
    </div>
  );
}
