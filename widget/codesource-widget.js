// Code Source Binding widget: the documented entry for console pages.
//
//   import { mountCodeSources } from "https://code-sources.example.com/widget/codesource-widget.js";
//   const widget = await mountCodeSources(document.getElementById("code-sources"), {
//     apiBase: "https://code-sources.example.com",  // default: where this script was loaded from
//     locale: "zh-CN",                                // or "en"
//     theme: "auto",                                  // "light", "dark" or "auto"
//     timeZone: "Asia/Shanghai",                      // IANA name; default: the browser's
//   });
//   widget.setTheme("dark"); widget.setLocale("en"); widget.setTimeZone("UTC"); widget.unmount();
//
// The stylesheet is added to the page once; every rule in it is scoped to .cs-app.
import init, { mount } from "./app.js";

const here = new URL(".", import.meta.url);
let ready;

function addStylesheet() {
  const href = new URL("main.css", here).href;
  if (!document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }
}

export async function mountCodeSources(element, options = {}) {
  if (!(element instanceof HTMLElement)) {
    throw new TypeError("mountCodeSources: element must be an HTMLElement");
  }
  addStylesheet();
  ready ??= init({ module_or_path: new URL("app_bg.wasm", here) });
  await ready;
  // The server is one level above /widget/ (including any base path). Normalised, so its
  // origin compares equal to the origin the OAuth window reports from.
  const api = new URL(options.apiBase ?? new URL("..", here).href, document.baseURI);
  const apiBase = (api.origin + api.pathname).replace(/\/+$/, "");
  return mount(element, apiBase, options.locale ?? null, options.theme ?? null, options.timeZone ?? null);
}
