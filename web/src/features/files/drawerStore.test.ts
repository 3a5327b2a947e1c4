import { describe, expect, it } from "vitest";
import { attachment, fileMessage } from "../../test/factories";
import type { DrawerQuery } from "./filesApi";
import { DrawerStore, hasMoreFiles, visibleFiles } from "./drawerStore";
import type { DrawerFile, DrawerPage } from "./types";

function drawerFile(id: number, kind: DrawerFile["kind"], messageId = id * 10): DrawerFile {
  return { ...attachment({ id, kind, file_name: `f${id}` }), message_id: messageId, sender_id: 2, created_at: "2026-01-05T00:00:00Z" };
}

/** The endpoint over a fixed set of files: newest first, `before` an attachment id. */
function fakeApi(files: DrawerFile[]) {
  const calls: DrawerQuery[] = [];
  const kinds: Record<string, DrawerFile["kind"][]> = { media: ["image", "video"], image: ["image"], video: ["video"], audio: ["audio"], file: ["file"] };
  return {
    calls,
    drawer: async (_roomId: number, q: DrawerQuery): Promise<DrawerPage> => {
      calls.push(q);
      const matching = files
        .filter((f) => kinds[q.kind]?.includes(f.kind) && (q.before === undefined || f.id < q.before))
        .sort((a, b) => b.id - a.id);
      const limit = q.limit ?? 50;
      return { files: matching.slice(0, limit), has_more: matching.length > limit };
    },
  };
}

describe("DrawerStore", () => {
  it("pages the media tab newest first with before", async () => {
    const api = fakeApi([1, 2, 3, 4, 5].map((id) => drawerFile(id, id % 2 ? "image" : "video")));
    const store = new DrawerStore({ api, pageSize: 2 });
    await store.open(7, "media");
    expect(visibleFiles(store.list(7, "media")).map((f) => f.id)).toEqual([5, 4]);
    await store.loadMore(7, "media");
    await store.loadMore(7, "media");
    expect(visibleFiles(store.list(7, "media")).map((f) => f.id)).toEqual([5, 4, 3, 2, 1]);
    expect(hasMoreFiles(store.list(7, "media"))).toBe(false);
    expect(api.calls).toEqual([
      { kind: "media", limit: 2 },
      { kind: "media", limit: 2, before: 4 },
      { kind: "media", limit: 2, before: 2 },
    ]);
  });

  it("merges documents and audio in order, never showing an item before an older one could be missing", async () => {
    // Ids: files 10, 8, 2; audio 9, 3, 1.
    const api = fakeApi([drawerFile(10, "file"), drawerFile(8, "file"), drawerFile(2, "file"), drawerFile(9, "audio"), drawerFile(3, "audio"), drawerFile(1, "audio")]);
    const store = new DrawerStore({ api, pageSize: 2 });
    await store.open(7, "files");
    // file page [10, 8] (more), audio page [9, 3] (more): only down to 8 is certain.
    expect(visibleFiles(store.list(7, "files")).map((f) => f.id)).toEqual([10, 9, 8]);
    await store.loadMore(7, "files");
    expect(visibleFiles(store.list(7, "files")).map((f) => f.id)).toEqual([10, 9, 8, 3]);
    await store.loadMore(7, "files");
    expect(visibleFiles(store.list(7, "files")).map((f) => f.id)).toEqual([10, 9, 8, 3, 2, 1]);
    expect(hasMoreFiles(store.list(7, "files"))).toBe(false);
  });

  it("shows an attachment once even if two of the tab's queries answer it (a server whose kinds overlap)", async () => {
    const files = [drawerFile(3, "file"), drawerFile(2, "audio"), drawerFile(1, "file")];
    const api = fakeApi(files);
    const overlapping = {
      drawer: async (roomId: number, q: DrawerQuery): Promise<DrawerPage> =>
        q.kind === "file"
          ? { files: files.filter((f) => f.kind === "file" || f.kind === "audio"), has_more: false }
          : api.drawer(roomId, q),
    };
    const store = new DrawerStore({ api: overlapping });
    await store.open(7, "files");
    expect(visibleFiles(store.list(7, "files")).map((f) => f.id)).toEqual([3, 2, 1]);
  });

  it("updates scan and thumbnail states in place, adds new files on top and drops unsent ones", async () => {
    const api = fakeApi([drawerFile(1, "image", 100)]);
    const store = new DrawerStore({ api });
    await store.open(7, "media");
    await store.open(7, "files");

    // The thumbnail of 1 is ready and it was scanned clean.
    store.applyMessage(
      fileMessage([attachment({ id: 1, kind: "image", file_name: "f1", thumbnail: "ready", scan_state: "clean", downloadable: true })], {
        id: 100,
        room_id: 7,
      }),
    );
    expect(visibleFiles(store.list(7, "media"))[0]).toMatchObject({ id: 1, thumbnail: "ready", scan_state: "clean", message_id: 100 });

    // A new message with a photo and a document.
    store.applyMessage(fileMessage([attachment({ id: 5, kind: "image" }), attachment({ id: 6, kind: "file" })], { id: 200, room_id: 7 }));
    expect(visibleFiles(store.list(7, "media")).map((f) => f.id)).toEqual([5, 1]);
    expect(visibleFiles(store.list(7, "files")).map((f) => f.id)).toEqual([6]);
    // Another room's message changes nothing here.
    store.applyMessage(fileMessage([attachment({ id: 9, kind: "image" })], { id: 300, room_id: 8 }));
    expect(visibleFiles(store.list(7, "media")).map((f) => f.id)).toEqual([5, 1]);

    // Unsent: its files leave the drawer.
    store.applyMessage(fileMessage([], { id: 200, room_id: 7, deleted_at: "2026-01-05T00:00:00Z" }));
    expect(visibleFiles(store.list(7, "media")).map((f) => f.id)).toEqual([1]);
    expect(visibleFiles(store.list(7, "files"))).toEqual([]);
  });

  it("keeps a scan result that arrives while the first page is on its way", async () => {
    const before = drawerFile(5, "file");
    let answer: (page: DrawerPage) => void = () => undefined;
    const store = new DrawerStore({ api: { drawer: () => new Promise<DrawerPage>((ok) => (answer = ok)) } });
    const opened = store.open(7, "media");
    store.applyMessage(fileMessage([attachment({ id: 5, kind: "image", scan_state: "clean", downloadable: true })], { id: 50, room_id: 7 }));
    answer({ files: [{ ...before, kind: "image" }], has_more: false });
    await opened;
    expect(visibleFiles(store.list(7, "media"))).toMatchObject([{ id: 5, scan_state: "clean", downloadable: true }]);
  });
});
