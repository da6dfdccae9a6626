//! The browser side of every server function: server_fn's `fetch` client, except that requests
//! carry `credentials: "include"`. Same-origin pages send their cookies anyway; the widget, on a
//! console origin, needs this to send the user's identity cookie to our server (which answers
//! only origins it lists, see the server's CORS layer).

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use std::future::Future;

pub struct WithCredentials;

/// Rebuilds the prepared request with `credentials: "include"` (the abort signal, method,
/// headers and body carry over). If the browser refuses, the request goes as it was.
fn include_credentials(req: &mut BrowserRequest) {
    let Ok(placeholder) = web_sys::Request::new_with_str("about:blank") else {
        return;
    };
    let original: web_sys::Request = std::mem::replace(&mut **req, placeholder.into()).into();
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::Include);
    let next = web_sys::Request::new_with_request_and_init(&original, &init).unwrap_or(original);
    **req = next.into();
}

impl<E, IS, OS> Client<E, IS, OS> for WithCredentials
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(mut req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        include_credentials(&mut req);
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::manual_async_fn)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures_core::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                impl futures_sink::Sink<bytes::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
