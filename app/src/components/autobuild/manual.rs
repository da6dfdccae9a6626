//! What to paste into the code host's webhook settings after a manual setup: the payload URL,
//! the secret (shown this once: the server keeps it sealed), the content type, the events to
//! tick, and a link to the settings page when the host has one. After a rotation of a manual
//! setup's secret the same panel shows the new secret, which replaces the old one there.

use crate::api::safe_http_url;
use crate::api::{ManualSetup, Provider};
use crate::i18n::{fill, Msg};
use crate::{t, use_locale};
use leptos::prelude::*;

#[component]
pub fn ManualSetupPanel(
    setup: ManualSetup,
    provider: Provider,
    /// The secret was rotated: the webhook exists, only its secret is replaced.
    #[prop(optional)]
    rotated: bool,
    /// Hides the panel (and with it the secret).
    on_done: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let locale = use_locale();
    let copied = RwSignal::new(None::<String>);
    let (title, intro) = if rotated {
        (Msg::RotatedTitle, Msg::RotatedIntro)
    } else {
        (Msg::ManualTitle, Msg::ManualIntro)
    };
    let host = provider.display_name();
    // A code host's URL is untrusted: only http(s) reaches `href`.
    let settings = setup
        .settings_url
        .as_deref()
        .and_then(safe_http_url)
        .map(str::to_string);
    let line = move |label: Msg, value: String| {
        let (v1, v3) = (value.clone(), value.clone());
        // Once copied, the button's name is what it shows ("Copied"): name and text agree.
        let copied_this = move || copied.get().as_deref() == Some(v3.as_str());
        let shows_copied = copied_this.clone();
        view! {
            <dt>{t(label)}</dt>
            <dd>
                <code>{value}</code>
                <button
                    type="button"
                    class="btn btn-small"
                    aria-label=move || {
                        if copied_this() {
                            Msg::Copied.text(locale.get()).to_string()
                        } else {
                            fill(Msg::CopyAria.text(locale.get()), &[label.text(locale.get())])
                        }
                    }
                    on:click=move |_| crate::components::token_dialog::copy_text(v1.clone(), copied)
                >
                    {move || if shows_copied() {
                        Msg::Copied.text(locale.get())
                    } else {
                        Msg::Copy.text(locale.get())
                    }}
                </button>
            </dd>
        }
    };
    view! {
        <section class="notice manual-setup" aria-labelledby="manual-setup-title">
            <h3 id="manual-setup-title">{move || fill(title.text(locale.get()), &[host])}</h3>
            <p>{t(intro)}</p>
            <dl class="manual-facts">
                {line(Msg::AutoBuildWebhookUrl, setup.payload_url.clone())}
                {line(Msg::ManualSecret, setup.secret.clone())}
                <dt>{t(Msg::ManualContentType)}</dt>
                <dd><code>{setup.content_type.clone()}</code></dd>
                <dt>{t(Msg::ManualEvents)}</dt>
                <dd>{setup.events.join(", ")}</dd>
            </dl>
            <div class="autobuild-buttons">
                {settings.map(|href| view! {
                    <a class="btn btn-small" href=href target="_blank" rel="noopener noreferrer">
                        {move || fill(Msg::ManualSettingsLink.text(locale.get()), &[host])}
                    </a>
                })}
                <button type="button" class="btn btn-small btn-primary" on:click=move |_| on_done()>
                    {t(Msg::Done)}
                </button>
            </div>
        </section>
    }
}
