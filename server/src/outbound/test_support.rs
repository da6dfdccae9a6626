//! Test helpers shared by the code host clients' property tests.

use proptest::prelude::*;

/// Strings a hostile host might put where we expect names, links and error codes.
pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        Just("<script>alert(1)</script>".to_string()),
        Just("javascript:alert(document.cookie)".to_string()),
        Just("JaVaScRiPt://x/%0aalert(1)".to_string()),
        Just("data:text/html,<b>x</b>".to_string()),
        Just("https://evil.example/\"><img src=x onerror=alert(1)>".to_string()),
        Just("https://user:pw@evil.example/".to_string()),
        Just("https://gitlab.example/u/alice".to_string()),
        Just("http://10.0.0.5/uploads/a.png".to_string()),
        (1usize..4, "[a-z<>\"]{1,4}").prop_map(|(n, s)| s.repeat(n * 2_000)),
        "https?://[a-z.]{1,12}/[ -~]{0,40}",
        Just(" javascript:alert(1)".to_string()),
        Just("vbscript:msgbox(1)".to_string()),
        Just("data:text/html;base64,PHNjcmlwdD4=".to_string()),
        Just("https://evil.example/\" onmouseover=\"alert(1)".to_string()),
        Just("https://token@evil.example/".to_string()),
        Just("https://github.com/alice".to_string()),
        Just("https://avatars.githubusercontent.com/u/1?v=4".to_string()),
        (1usize..4, "[a-z<>\"&]{1,4}").prop_map(|(n, s)| s.repeat(n * 2_000)),
    ]
}
