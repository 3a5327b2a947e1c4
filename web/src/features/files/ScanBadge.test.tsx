import { renderToStaticMarkup } from "react-dom/server";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it } from "vitest";
import { createI18n } from "../../lib/i18n";
import { ScanBadge } from "./ScanBadge";

function badge(compact: boolean): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={createI18n("ko")}>
      <ScanBadge attachment={{ scan_state: "unscanned", scan_reason: "too_large" }} compact={compact} />
    </I18nextProvider>,
  );
}

describe("ScanBadge", () => {
  it("shows the reason beside the label on a file card", () => {
    expect(badge(false)).toBe(
      '<span class="scan-badge scan-warn" data-scan="unscanned" title="검사하기에 너무 큼">' +
        '검사 안 됨<span class="scan-reason"> (검사하기에 너무 큼)</span></span>',
    );
  });

  it("shows only the label on a photo tile, the reason kept for screen readers and the tooltip", () => {
    expect(badge(true)).toBe(
      '<span class="scan-badge scan-warn" data-scan="unscanned" title="검사하기에 너무 큼">' +
        '검사 안 됨<span class="sr-only"> (검사하기에 너무 큼)</span></span>',
    );
  });
});
