import i18next, { type i18n as I18n } from "i18next";
import { initReactI18next } from "react-i18next";
import { en } from "./locales/en";
import { ko } from "./locales/ko";

export type Locale = "ko" | "en";
export const LOCALES: readonly Locale[] = ["ko", "en"];

/** Korean unless the user chose English in the settings (the browser's language is not asked). */
export function initialLocale(stored: string | null): Locale {
  return stored === "en" ? "en" : "ko";
}

export function createI18n(locale: Locale): I18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    lng: locale,
    fallbackLng: "ko",
    resources: { ko: { translation: ko }, en: { translation: en } },
    interpolation: { escapeValue: false }, // React renders text nodes; nothing is HTML
    returnNull: false,
    initAsync: false,
  });
  return instance;
}

/** The user-facing text for an error code from the server (or the client's own codes). */
export function errorText(t: (key: string, opts?: Record<string, unknown>) => string, code: string | null | undefined): string {
  const key = `errors.${code ?? "unknown"}`;
  const text = t(key);
  return text === key ? t("errors.unknown") : text;
}
