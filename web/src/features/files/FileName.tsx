import { splitFileName } from "./format";

/**
 * A file name on one line with the ellipsis in the middle (the extension and the end of the name
 * stay). The whole name is in the text, so screen readers and copy read it in full.
 */
export function FileName({ name, className = "" }: { name: string; className?: string }) {
  const { head, tail } = splitFileName(name);
  return (
    <span className={`file-name ${className}`.trim()} title={name}>
      <span className="file-name-head">{head}</span>
      {tail ? <span className="file-name-tail">{tail}</span> : null}
    </span>
  );
}
