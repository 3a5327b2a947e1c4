import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it } from "vitest";
import { createI18n, errorText, type Locale } from "../../lib/i18n";
import { AttachmentTray } from "./AttachmentTray";
import { UploadChip } from "./UploadChip";
import type { UploadItem } from "./uploads";

const noop = () => {};

function failed(errorCode: string, permanent: boolean): UploadItem {
  return {
    localId: "local-1",
    roomId: 7,
    name: "setup.exe",
    size: 10,
    type: "application/x-msdownload",
    lastModified: 1,
    state: "failed",
    sent: 0,
    uploadUrl: null,
    uploadId: null,
    errorCode,
    permanent,
    previewUrl: null,
  };
}

function chip(item: UploadItem, locale: Locale = "ko", offline = false): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={createI18n(locale)}>
      <UploadChip item={item} onPause={noop} onResume={noop} onCancel={noop} onPickAgain={noop} offline={offline} />
    </I18nextProvider>,
  );
}

function tray(items: UploadItem[], locale: Locale = "ko"): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={createI18n(locale)}>
      <AttachmentTray items={items} armed={null} onPause={noop} onResume={noop} onCancel={noop} onPickAgain={noop} onDisarm={noop} />
    </I18nextProvider>,
  );
}

describe("a file the administrator disallowed", () => {
  it("has its own text in Korean and English", () => {
    const ko = createI18n("ko");
    const en = createI18n("en");
    expect(errorText(ko.t.bind(ko), "file_type_not_allowed")).toBe("이 종류의 파일은 보낼 수 없습니다 (관리자 설정).");
    expect(errorText(en.t.bind(en), "file_type_not_allowed")).toBe("This type of file can't be sent (administrator's setting).");
  });

  it("shows that text, a remove button and no Retry", () => {
    const html = chip(failed("file_type_not_allowed", true));
    expect(html).toContain("이 종류의 파일은 보낼 수 없습니다 (관리자 설정).");
    expect(html).not.toContain("문제가 생겼습니다");
    expect(html).not.toContain('aria-label="다시 시도"');
    expect(html).toContain('aria-label="setup.exe');
  });

  it("the tray asks to remove it before sending", () => {
    expect(tray([failed("file_type_not_allowed", true)])).toContain("그 파일을 빼야 보낼 수 있습니다");
    expect(tray([failed("file_type_not_allowed", true)], "en")).toContain("Remove it to send the message.");
    expect(tray([failed("storage_full", false)])).not.toContain("그 파일을 빼야 보낼 수 있습니다");
  });
});

describe("a failure that can pass later", () => {
  it("keeps Retry", () => {
    const html = chip(failed("storage_full", false));
    expect(html).toContain('aria-label="다시 시도"');
  });
});

describe("a network failure", () => {
  it("while the browser is offline says it continues once back, without an alert", () => {
    const html = chip(failed("network_error", false), "ko", true);
    expect(html).toContain("연결이 끊겨 멈춤 — 다시 연결되면 이어서 올립니다");
    expect(html).not.toContain("올리지 못함");
    expect(html).not.toContain('role="alert"');
    expect(html).toContain("state-paused");
  });

  it("while the browser is online (the server is unreachable) is a failure with Retry", () => {
    const html = chip(failed("network_error", false), "ko", false);
    expect(html).toContain("올리지 못함");
    expect(html).toContain('role="alert"');
    expect(html).toContain('aria-label="다시 시도"');
  });
});
