/**
 * Files as they come from the clipboard and from a drop, before they reach the tray: pasted
 * pictures get names of their own, dropped folders are set apart (they cannot be uploaded).
 */

/** The generic name browsers give a pasted picture ("image.png"): every screenshot has it. */
const GENERIC_PASTE = /^image\.(png|jpe?g|gif|webp|bmp|avif|heic)$/i;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "2026-11-27 14.05.09": the local time, as screenshot tools name files (no ":" for Windows). */
export function pasteStamp(now: Date): string {
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `${date} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
}

/**
 * Pasted pictures named "image.png" become "<prefix> 2026-11-27 14.05.09.png" (the prefix is
 * 스크린샷 / Screenshot), numbered " (2)", " (3)" when several come at once, so they stay apart in
 * the chat, the drawer and the downloads folder. A file pasted with a name of its own (copied
 * in a file manager) keeps it.
 */
export function namePasted(files: readonly File[], prefix: string, now: Date): File[] {
  const generic = files.filter((f) => GENERIC_PASTE.test(f.name)).length;
  let n = 0;
  return files.map((file) => {
    const match = GENERIC_PASTE.exec(file.name);
    if (!match) return file;
    n += 1;
    const suffix = generic > 1 ? ` (${n})` : "";
    const name = `${prefix} ${pasteStamp(now)}${suffix}.${(match[1] as string).toLowerCase()}`;
    return new File([file], name, { type: file.type, lastModified: file.lastModified });
  });
}

/** What the browser gives for one dropped item (a DataTransferItem, as far as it is used here). */
interface DroppedItem {
  kind: string;
  getAsFile(): File | null;
  webkitGetAsEntry?: () => { isDirectory: boolean; name: string } | null;
}

export interface Dropped {
  files: File[];
  /** Names of dropped folders, which are refused: the browser cannot read them as a file. */
  folders: string[];
}

/**
 * The files of a drop, without its folders. A folder arrives as a `File` of a few KB whose bytes
 * cannot be read; only its entry (`webkitGetAsEntry`, in every current browser) tells.
 */
export function droppedFiles(data: { items?: ArrayLike<DroppedItem> | null; files: ArrayLike<File> }): Dropped {
  const items = data.items ? Array.from(data.items).filter((i) => i.kind === "file") : [];
  if (items.length === 0 || !items.some((i) => typeof i.webkitGetAsEntry === "function")) {
    return { files: Array.from(data.files), folders: [] };
  }
  const out: Dropped = { files: [], folders: [] };
  for (const item of items) {
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry?.isDirectory) {
      out.folders.push(entry.name);
      continue;
    }
    const file = item.getAsFile();
    if (file) out.files.push(file);
  }
  return out;
}
