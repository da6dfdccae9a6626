//! Fake console pages on another origin, embedding the code source page the two documented ways:
//!
//! - `/embed?src=URL[&theme=dark][&locale=en]`: an iframe. Records the page's events in
//!   `window.__messages`, sizes the iframe to the reported height, answers `codesource:ready`
//!   with the theme and language it was given, and never navigates (navigate requests are
//!   only recorded). `window.__send(msg)` posts a message to the page.
//! - `/widget-host?script=URL[&api=URL][&theme=dark][&locale=en]`: imports the widget script
//!   and mounts it into a `<div>`; the handle is `window.__widget`, a failure `window.__error`,
//!   the widget's `codesource:binding-changed` events' details `window.__events`.

use crate::oauth::html_escape;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

pub fn router() -> Router {
    Router::new()
        .route("/embed", get(embed))
        .route("/widget-host", get(widget_host))
}

/// A JSON string literal safe inside `<script>`.
fn js(v: &str) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

fn origin_of(url: &str) -> String {
    url.split('/').take(3).collect::<Vec<_>>().join("/")
}

async fn embed(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let src = q.get("src").map(String::as_str).unwrap_or("");
    let theme = q.get("theme").map(String::as_str).unwrap_or("");
    let locale = q.get("locale").map(String::as_str).unwrap_or("");
    Html(format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Console</title></head><body>
<h1>Console</h1><iframe title="Code sources" src="{src_attr}" style="width:1200px;height:300px;border:0"></iframe>
<script>
var origin={origin}, theme={theme}, locale={locale};
var frame=document.querySelector('iframe');
window.__messages=[];
window.__send=function(m){{frame.contentWindow.postMessage(JSON.stringify(m),origin);}};
addEventListener('message',function(e){{
  if(e.origin!==origin)return;
  var m=JSON.parse(e.data);window.__messages.push(m);
  if(m.type==='codesource:height'){{frame.style.height=m.height+'px';}}
  if(m.type==='codesource:ready'){{
    if(theme)window.__send({{type:'codesource:set-theme',theme:theme}});
    if(locale)window.__send({{type:'codesource:set-locale',locale:locale}});
  }}
}});
</script></body></html>"#,
        src_attr = html_escape(src),
        origin = js(&origin_of(src)),
        theme = js(theme),
        locale = js(locale),
    ))
}

async fn widget_host(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let script = q.get("script").map(String::as_str).unwrap_or("");
    let options = serde_json::json!({
        "apiBase": q.get("api"),
        "theme": q.get("theme"),
        "locale": q.get("locale"),
    });
    let options = options.to_string().replace('<', "\\u003c");
    Html(format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Console with the widget</title>
<style>body{{margin:0;font-family:sans-serif}} .console-nav{{padding:12px 24px;background:#20242c;color:#fff}}</style></head>
<body><nav class="console-nav">Console</nav><div id="code-sources"></div>
<script type="module">
const options = Object.fromEntries(Object.entries({options}).filter(([, v]) => v != null));
try {{
  const {{ mountCodeSources }} = await import({script});
  const el = document.getElementById('code-sources');
  window.__events = [];
  el.addEventListener('codesource:binding-changed', (e) => window.__events.push(e.detail));
  window.__widget = await mountCodeSources(el, options);
}} catch (e) {{
  window.__error = String(e && e.message || e);
}}
</script></body></html>"#,
        script = js(script),
    ))
}
