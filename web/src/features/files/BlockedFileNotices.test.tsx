import { isValidElement, type ReactElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createI18n, type Locale } from "../../lib/i18n";
import { BlockedFileNotices, type BlockedFileNoticesProps } from "./BlockedFileNotices";
import { BLOCKED_NOTICE_MS, BlockedNotices, type FileBlockedFrame } from "./blockedNotices";

type Props = Record<string, unknown> & { children?: ReactNode };

/**
 * Renders the notices (no DOM here: server rendering) and keeps the element tree they returned,
 * so that a test can press a button by calling its onClick.
 */
function render(props: BlockedFileNoticesProps, locale: Locale = "ko") {
  let tree: ReactElement | null = null;
  function Probe() {
    tree = BlockedFileNotices(props) as ReactElement | null;
    return tree;
  }
  const html = renderToStaticMarkup(
    <I18nextProvider i18n={createI18n(locale)}>
      <Probe />
    </I18nextProvider>,
  );
  const find = (match: (p: Props) => boolean): Props[] => {
    const found: Props[] = [];
    const walk = (node: ReactNode) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (isValidElement<Props>(node)) {
        if (match(node.props)) found.push(node.props);
        walk(node.props.children);
      }
    };
    walk(tree);
    return found;
  };
  return { html, find };
}

const frame = (attachmentId: number, fileName: string): FileBlockedFrame => ({
  type: "file.blocked",
  attachment_id: attachmentId,
  room_id: 7,
  message_id: 500,
  file_name: fileName,
  signature: "Eicar-Test-Signature",
});

const timers = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The shell's wiring (AppShell.tsx): the store's notices, its dismiss and hold. */
function shellProps(store: BlockedNotices, overrides: Partial<BlockedFileNoticesProps> = {}): BlockedFileNoticesProps {
  return {
    notices: store.getState(),
    canOpen: () => false,
    onOpen: () => undefined,
    onDismiss: (id) => store.dismiss(id),
    onHold: (reason, held) => store.hold(reason, held),
    ...overrides,
  };
}

describe("BlockedFileNotices", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("tells the sender in Korean, with the file name, as an alert with a labelled close button", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(42, "견적서_최종.zip"));
    const { html } = render(shellProps(store));
    expect(html).toContain('role="alert"');
    expect(html).toContain("보낸 파일 ‘견적서_최종.zip’에서 바이러스가 발견되어 차단되었습니다.");
    expect(html).toContain('aria-label="알림 닫기"');
    // No room to open: no 보기 button.
    expect(html).not.toContain(">보기<");
  });

  it("in English when chosen", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(42, "quote.zip"));
    const { html } = render(shellProps(store), "en");
    expect(html).toContain("A virus was found in the file you sent, ‘quote.zip’; it has been blocked.");
    expect(html).toContain('aria-label="Dismiss notice"');
  });

  it("the file name is text, never markup", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1, "<img src=x onerror=alert(1)>.zip"));
    const { html } = render(shellProps(store));
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;.zip");
  });

  it("the close button dismisses it", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1, "a.zip"));
    store.add(frame(2, "b.zip"));
    const first = render(shellProps(store));
    expect(first.find((p) => p.role === "alert")).toHaveLength(2);
    const close = first.find((p) => p["aria-label"] === "알림 닫기")[0]!;
    (close.onClick as () => void)();
    const after = render(shellProps(store));
    expect(after.html).not.toContain("a.zip");
    expect(after.html).toContain("b.zip");
    (after.find((p) => p["aria-label"] === "알림 닫기")[0]!.onClick as () => void)();
    expect(render(shellProps(store)).html).toBe("");
  });

  it("disappears by itself after about 8 seconds", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1, "a.zip"));
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS - 100);
    expect(render(shellProps(store)).html).toContain("a.zip");
    vi.advanceTimersByTime(100);
    expect(render(shellProps(store)).html).toBe("");
  });

  it("several in a row: one alert each, newest last, at most three", () => {
    const store = new BlockedNotices(timers);
    for (const name of ["1.zip", "2.zip", "3.zip", "4.zip"]) store.add(frame(Number(name[0]), name));
    const { html, find } = render(shellProps(store));
    expect(find((p) => p.role === "alert")).toHaveLength(3);
    expect(html).not.toContain("1.zip");
    expect(html.indexOf("2.zip")).toBeLessThan(html.indexOf("3.zip"));
    expect(html.indexOf("3.zip")).toBeLessThan(html.indexOf("4.zip"));
  });

  it("보기 opens the room when it is known", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1, "a.zip"));
    const opened: number[] = [];
    const props = shellProps(store, { canOpen: (roomId) => roomId === 7, onOpen: (n) => opened.push(n.roomId) });
    const { html, find } = render(props);
    expect(html).toContain(">보기<");
    (find((p) => p.children === "보기")[0]!.onClick as () => void)();
    expect(opened).toEqual([7]);
  });

  it("pointing at the notices keeps them", () => {
    const store = new BlockedNotices(timers);
    store.add(frame(1, "a.zip"));
    const { find } = render(shellProps(store));
    const stack = find((p) => p.className === "toast-stack")[0]!;
    (stack.onMouseEnter as () => void)();
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS * 3);
    expect(render(shellProps(store)).html).toContain("a.zip");
    (stack.onMouseLeave as () => void)();
    vi.advanceTimersByTime(BLOCKED_NOTICE_MS);
    expect(render(shellProps(store)).html).toBe("");
  });
});
