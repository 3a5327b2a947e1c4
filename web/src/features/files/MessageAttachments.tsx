import { FileCard } from "./FileCard";
import { GRID_CELL, isVisual, thumbBox } from "./layout";
import { MediaThumb } from "./MediaThumb";
import { type Attachment, stateKey } from "./types";

export interface MessageAttachmentsProps {
  attachments: readonly Attachment[];
  mine: boolean;
  onOpen(attachmentId: number): void;
}

/** The files of one message: one picture at its shape, several in a grid, other files as cards. */
export function MessageAttachments({ attachments, mine, onOpen }: MessageAttachmentsProps) {
  const visual = attachments.filter(isVisual);
  const cards = attachments.filter((a) => !isVisual(a));
  const single = visual.length === 1 ? visual[0] : undefined;
  return (
    <div className="message-attachments">
      {single ? (
        <MediaThumb key={stateKey(single)} attachment={single} {...thumbBox(single)} onOpen={() => onOpen(single.id)} />
      ) : visual.length > 1 ? (
        <div className="media-grid">
          {visual.map((a) => (
            <MediaThumb key={stateKey(a)} attachment={a} width={GRID_CELL} height={GRID_CELL} cover onOpen={() => onOpen(a.id)} />
          ))}
        </div>
      ) : null}
      {cards.map((a) => (
        <FileCard key={a.id} attachment={a} mine={mine} />
      ))}
    </div>
  );
}
