//! Translations (zh-CN and English). Every user-facing string lives in the `messages!` table below;
//! components ask for a [`Msg`] in the current [`Locale`].

mod domain;
mod errors;
pub use domain::{
    action_text, autobuild_status_help, autobuild_status_text, delivery_event_text,
    delivery_outcome_text, host_texts, outcome_text, reason_text, repair_change_text, HostTexts,
};
pub use errors::error_text;

pub use crate::locale::{Locale, LOCALE_COOKIE};
use leptos::prelude::*;

/// The current UI language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Locale>);

pub fn use_locale() -> RwSignal<Locale> {
    expect_context::<I18n>().0
}

/// A reactive translation of `msg`.
pub fn t(msg: Msg) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let locale = use_locale();
    move || msg.text(locale.get())
}

macro_rules! messages {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Msg { $($key),* }

        impl Msg {
            pub const ALL: &'static [Msg] = &[$(Msg::$key),*];

            pub fn text(self, locale: Locale) -> &'static str {
                match locale {
                    Locale::En => EN.get(self as usize),
                    Locale::Zh => ZH.get(self as usize),
                }
            }
        }

        static EN: Texts<{ Msg::ALL.len() }> = Texts::new(concat!($($en),*), [$($en.len()),*]);
        static ZH: Texts<{ Msg::ALL.len() }> = Texts::new(concat!($($zh),*), [$($zh.len()),*]);
    };
}

/// The messages of one locale, one after another in a single string, and where each ends: a
/// lookup is two numbers and a slice. (A `match` over every message and locale compiled to the
/// largest function of the page's wasm, and every new message made it larger.)
struct Texts<const N: usize> {
    text: &'static str,
    ends: [u16; N],
}

impl<const N: usize> Texts<N> {
    const fn new(text: &'static str, lens: [usize; N]) -> Self {
        let mut ends = [0u16; N];
        let (mut i, mut end) = (0, 0);
        while i < N {
            end += lens[i];
            ends[i] = end as u16;
            i += 1;
        }
        assert!(
            end == text.len() && end <= u16::MAX as usize,
            "the texts outgrew u16 offsets"
        );
        Texts { text, ends }
    }

    fn get(&self, i: usize) -> &'static str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        // Ends fall between whole literals, so on character boundaries: never the default.
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }
}

messages! {
    PageTitle => "Code source configuration", "代码源配置";
    PageIntro => "Bind your code host accounts so that the build service can pull source code and build images. DevCloud is bound to your cloud account by default.", "绑定代码托管网站的账号后，构建服务即可自动拉取源码、构建镜像。DevCloud 已默认绑定当前云账号。";
    LocalMode => "Local mode", "本地模式";
    LocalModeHint => "No console identity is configured: everything belongs to one local tenant. Do not use this mode in production.", "未配置控制台身份密钥：所有数据属于同一个本地租户。请勿在生产环境使用此模式。";
    Language => "Language", "语言";
    ColSource => "Code source", "代码源";
    ColStatus => "Status", "状态";
    ColAccount => "Bound account", "绑定账号";
    ColAddress => "Address", "代码源地址";
    ColBoundAt => "Bound at", "绑定时间";
    ColActions => "Actions", "操作";
    StatusBound => "Bound", "已绑定";
    StatusUnbound => "Not bound", "未绑定";
    StatusNotConfigured => "Not configured", "未配置";
    NotConfiguredHint => "Not enabled on this console yet; ask your administrator.", "此控制台尚未开通，请联系管理员。";
    Viewer => "Signed in as {} · tenant {}", "当前用户 {} · 租户 {}";
    DefaultBindingHint => "Bound to your cloud account by default", "默认绑定当前云账号";
    Bind => "Bind", "绑定";
    Unbind => "Unbind", "解绑";
    BindAria => "Bind {}", "绑定 {}";
    UnbindAria => "Unbind {}", "解绑 {}";
    Loading => "Loading…", "加载中…";
    LoadFailed => "The code sources could not be loaded.", "代码源列表加载失败。";
    Retry => "Retry", "重试";
    Cancel => "Cancel", "取消";
    Ok => "OK", "确定";
    Confirm => "Confirm", "确定";
    Close => "Close", "关闭";
    Copy => "Copy", "复制";
    Copied => "Copied", "已复制";
    CopyAria => "Copy {}", "复制 {}";
    TokenDialogTitle => "Bind {} account", "绑定 {} 账号";
    TokenAddress => "Code source address", "代码源地址";
    AddressHelpGitLab => "https://gitlab.com, or the address of your private GitLab (host name or IP, optional port). Without a scheme, https is used.", "默认 https://gitlab.com；绑定私有 GitLab 时填写其地址（域名或 IP，可带端口）。未写协议时使用 https。";
    TokenLabel => "Private token", "私有 Token";
    TokenHelpGitLab => "Create a personal access token in GitLab under User settings → Access tokens. Tick read_repository (to pull source) and read_api (to list repositories). The token is checked now and stored encrypted; it is never shown again.", "在 GitLab 的“用户设置 → 访问令牌”中创建个人访问令牌，勾选 read_repository（拉取源码）和 read_api（列出仓库）。Token 会立即校验并加密保存，之后不会再显示。";
    TokenCa => "CA certificate (optional, PEM)", "CA 证书（可选，PEM 格式）";
    TokenCaHelp => "Only for a private {} whose HTTPS certificate is issued by your own CA.", "仅当私有 {} 的 HTTPS 证书由自有 CA 签发时填写。";
    TokenCaToggle => "My {} uses its own certificate authority", "我的 {} 使用自有证书颁发机构";
    WhitelistTitle => "Allow the build nodes on your private {}", "在私有 {} 上放通构建节点";
    WhitelistBody => "The build service reaches your {} from these IP ranges. Add them to the {} server's whitelist (firewall or security group) before binding:", "构建服务将从以下 IP 段访问您的 {}。绑定前请将它们加入私有 {} 服务的白名单（防火墙或安全组）：";
    WhitelistNone => "The operator has not configured the build node ranges; ask your administrator which addresses to allow.", "管理员尚未配置构建节点 IP 段，请向管理员确认需要放通的地址。";
    Checking => "Checking the token with {}…", "正在向 {} 校验 Token…";
    ConfirmTitle => "Confirm the account to bind", "确认要绑定的账号";
    ConfirmBody => "The token belongs to this account. Confirm to bind it; the build service will pull source code as this account.", "该 Token 属于以下账号。确定后完成绑定，构建服务将以此账号拉取源码。";
    Scopes => "Scopes", "权限范围";
    ScopesUnknown => "This {} did not report the token's scopes.", "该 {} 未返回 Token 的权限范围。";
    Expires => "Expires", "过期时间";
    NeverExpires => "Never", "永不过期";
    Saving => "Saving the binding…", "正在保存绑定…";
    BoundToast => "{} account {} bound.", "{} 账号 {} 绑定成功。";
    UnbindTitle => "Unbind {} account", "解绑 {} 账号";
    UnbindBody => "Unbind the account {}? The build service will no longer pull source code from {} with it. The stored token is deleted here; revoke it on the code host too if you no longer need it.", "确定解绑账号 {} 吗？解绑后构建服务将无法再用它从 {} 拉取源码。本系统保存的 Token 将被删除；如不再需要，请同时在代码托管网站上撤销该 Token。";
    Unbinding => "Unbinding…", "正在解绑…";
    UnbindRevokeOptional => "Also revoke this token on {} (it stops working everywhere)", "同时在 {} 上撤销该 Token（之后在任何地方都无法使用）";
    UnbindRevokedNote => "The authorization is revoked on {} as well.", "同时会在 {} 上撤销此授权。";
    ManualRevokeGitee => "Gitee cannot revoke it from here: remove the authorization at Gitee under Settings → Third-party applications.", "Gitee 不支持在此撤销：请在 Gitee 的“设置 → 第三方应用”中取消授权。";
    ManualRevokeBitbucket => "Bitbucket cannot revoke it from here: remove the authorization in Bitbucket under Personal settings → App authorizations.", "Bitbucket 不支持在此撤销：请在 Bitbucket 的“个人设置 → App authorizations”中取消授权。";
    ManualRevokeGitea => "Gitea cannot revoke it from here: delete the token in Gitea (or Forgejo) under Settings → Applications.", "Gitea 不支持在此撤销：请在 Gitea（或 Forgejo）的“设置 → 应用”中删除该 Token。";
    AddressHelpGitea => "The address of your Gitea or Forgejo (host name or IP, optional port), e.g. https://gitea.example.com or https://codeberg.org. Without a scheme, https is used.", "您的 Gitea 或 Forgejo 的地址（域名或 IP，可带端口），例如 https://gitea.example.com 或 https://codeberg.org。未写协议时使用 https。";
    TokenHelpGitea => "Create an access token in Gitea (or Forgejo) under Settings → Applications → Generate new token, with read:repository (to pull source and list repositories) and read:user (to show which account is bound). The token is checked now and stored encrypted; it is never shown again.", "在 Gitea（或 Forgejo）的“设置 → 应用 → 生成新令牌”中创建访问令牌，授予 read:repository（拉取源码、列出仓库）和 read:user（用于显示绑定的账号）。Token 会立即校验并加密保存，之后不会再显示。";
    UnboundRevokedToast => "{} account unbound, and its token revoked on {}.", "{} 账号已解绑，并已在 {} 上撤销 Token。";
    UnboundRevokeFailedToast => "{} account unbound here, but revoking it on {} failed: revoke it there yourself.", "{} 账号已在此解绑，但在 {} 上撤销失败，请前往该网站自行撤销。";
    UnboundToast => "{} account unbound.", "{} 账号已解绑。";
    UnboundHooksLeft => "The auto-build webhooks of {} could not be removed from {} now: they will be removed once it answers again, or remove them in the repositories' webhook settings ({}).", "无法立即从 {} 删除 {} 的自动构建 Webhook：待其恢复后将自动删除，也可在仓库的 Webhook 设置中手动删除（{}）。";
    ErrUnauthenticated => "Your console session has ended.", "控制台登录已失效。";
    ErrUnauthenticatedHint => "Sign in to the console again, then reopen this page.", "请重新登录控制台后再打开此页面。";
    ErrCrossSite => "The request was refused because it did not come from this page.", "请求并非来自本页面，已被拒绝。";
    ErrCrossSiteHint => "Reload the page and try again.", "请刷新页面后重试。";
    ErrAddressMalformed => "The code source address is not valid.", "代码源地址格式不正确。";
    ErrAddressMalformedHint => "Enter a host name or IP address, optionally with a port, e.g. https://gitlab.example.com or 10.0.0.5:8443.", "请输入域名或 IP 地址（可带端口），例如 https://gitlab.example.com 或 10.0.0.5:8443。";
    ErrAddressScheme => "Only http:// and https:// addresses are supported.", "仅支持 http:// 和 https:// 地址。";
    ErrAddressSchemeHint => "Remove the other scheme or use https://.", "请改用 https:// 开头的地址。";
    ErrTokenEmpty => "Enter the private token.", "请输入私有 Token。";
    ErrTokenEmptyHint => "Paste the personal access token you created in {}.", "请粘贴在 {} 中创建的个人访问令牌。";
    ErrTokenMalformed => "The token contains characters a {} token cannot have.", "Token 含有 {} Token 不可能包含的字符。";
    ErrTokenMalformedHint => "Copy the token again, without spaces or line breaks.", "请重新复制 Token，不要包含空格或换行。";
    ErrCaInvalid => "The CA certificate is not a valid PEM certificate.", "CA 证书不是有效的 PEM 证书。";
    ErrCaInvalidHint => "Paste the certificate including the BEGIN CERTIFICATE and END CERTIFICATE lines.", "请粘贴完整证书，包括 BEGIN CERTIFICATE 和 END CERTIFICATE 两行。";
    ErrTooLarge => "The input is too large.", "输入内容过长。";
    ErrTooLargeHint => "Check that you pasted the right value.", "请检查粘贴的内容是否正确。";
    ErrUnknownProvider => "Unknown code source.", "未知的代码源。";
    ErrUnknownLocale => "Unsupported language.", "不支持的语言。";
    ErrMalformedRequest => "The server could not read the request.", "服务器无法解析该请求。";
    ErrInvalidArguments => "The request did not have the fields the server expects.", "请求中的字段与服务器要求不符。";
    ErrUnsupportedContentType => "The request was sent in a format the server does not accept.", "请求的格式不被服务器接受。";
    ErrOutdatedPageHint => "Reload the page (it may be out of date) and try again.", "请刷新页面（页面可能已过期）后重试。";
    ErrAddressForbidden => "This address is not allowed.", "不允许使用该地址。";
    ErrAddressForbiddenHint => "Internal network addresses (private, local, cloud metadata) cannot be used as a code source unless your administrator allows them. Enter your {} server's address.", "内网地址（私有、本机、云平台元数据）不能作为代码源，除非管理员已允许。请填写 {} 服务器的地址。";
    ErrDns => "The host name could not be resolved.", "无法解析该域名。";
    ErrDnsHint => "Check the spelling, or enter the {} server's IP address.", "请检查拼写，或直接填写 {} 服务器的 IP 地址。";
    ErrRefused => "The {} server refused the connection.", "{} 服务器拒绝了连接。";
    ErrRefusedHint => "Check the port and that {} is running, and that the address is reachable from the build nodes.", "请检查端口及 {} 是否正在运行，并确认构建节点可以访问该地址。";
    ErrUnreachable => "The {} server cannot be reached.", "无法连接到 {} 服务器。";
    ErrUnreachableHint => "Check the address and that the server's firewall allows the build node IP ranges.", "请检查地址，并确认服务器防火墙已放通构建节点 IP 段。";
    ErrTimeout => "{} did not answer in time.", "{} 响应超时。";
    ErrTimeoutHint => "Check that the address is reachable (firewall, whitelist) and try again.", "请确认地址可以访问（防火墙、白名单）后重试。";
    ErrTls => "The {} server's HTTPS certificate could not be verified.", "无法验证 {} 服务器的 HTTPS 证书。";
    ErrTlsHint => "If your {} uses a certificate from your own CA, paste that CA certificate in the CA certificate field.", "如果您的 {} 使用自有 CA 签发的证书，请在“CA 证书”中粘贴该 CA 证书。";
    ErrUnexpectedAnswer => "The address does not answer like a {} server.", "该地址的响应不像 {} 服务器。";
    ErrUnexpectedAnswerHint => "Enter the root address of the {} instance (without an /api/ path or a project path).", "请填写 {} 的根地址（不要包含 /api/ 路径或项目路径）。";
    ErrRedirected => "The address redirects elsewhere.", "该地址重定向到了其他位置。";
    ErrRedirectedHint => "Enter the address {} is really served at (often https:// instead of http://).", "请填写 {} 实际的访问地址（通常应使用 https:// 而非 http://）。";
    ErrTokenInvalid => "{} does not accept this token.", "{} 不认可该 Token。";
    ErrTokenInvalidHint => "Check that you copied the whole token and that it belongs to this {}.", "请确认 Token 复制完整，且属于该 {}。";
    ErrTokenExpired => "The token has expired.", "该 Token 已过期。";
    ErrTokenExpiredHint => "Create a new personal access token in {} and bind again.", "请在 {} 中创建新的个人访问令牌后重新绑定。";
    ErrTokenRevoked => "The token has been revoked.", "该 Token 已被撤销。";
    ErrTokenRevokedHint => "Create a new personal access token in {} and bind again.", "请在 {} 中创建新的个人访问令牌后重新绑定。";
    ErrScope => "The token cannot read repositories.", "该 Token 没有读取仓库的权限。";
    ErrScopeHint => "Create a new token with the scopes the bind dialog names.", "请按绑定对话框中列出的权限范围创建新的 Token。";
    ErrScopeHas => "The token has: {}", "该 Token 的权限：{}";
    ErrScopeNeeded => "It lacks: {}. With an access token, create one with these scopes and bind again; with an authorization, authorize again and grant them (on Bitbucket, ask the workspace administrator to give the OAuth consumer these permissions first).", "缺少权限：{}。使用访问 Token 时，请创建包含这些权限的 Token 后重新绑定；使用授权时，请重新授权并授予这些权限（Bitbucket 需先请工作区管理员为 OAuth consumer 添加这些权限）。";
    ErrRateLimited => "{} is limiting requests right now.", "{} 当前限制了请求频率。";
    ErrRateLimitedHint => "Wait a moment and try again.", "请稍后重试。";
    ErrRetryAfter => "Try again in {} seconds.", "请在 {} 秒后重试。";
    ErrAnswerTooLarge => "The code host's answer was too large.", "代码托管平台的响应过大。";
    ErrAnswerTooLargeHint => "Check that the address points at {} itself (not a proxy or another server) and try again.", "请确认地址指向 {} 本身（而不是代理或其他服务器）后重试。";
    ErrBusy => "Too many requests to code hosts are running for your account right now.", "您的账号当前正在进行的代码托管平台请求过多。";
    ErrUpstream => "{} answered with an unexpected error (HTTP {}).", "{} 返回了意外错误（HTTP {}）。";
    ErrUpstreamHint => "Try again later; if it persists, check the {} server.", "请稍后重试；如持续出现，请检查 {} 服务器。";
    ErrRefreshUnavailable => "{} could not renew the authorization just now.", "{} 暂时无法续期授权。";
    ErrUnsupported => "This code source does not offer that.", "该代码源不支持此操作。";
    ErrHookScope => "The authorization on {} cannot manage webhooks: it lacks {}.", "{} 上的授权无法管理 Webhook：缺少 {}。";
    ErrHookScopeHint => "Re-authorize with the extra permission (or bind a token that has it), or set the webhook up by hand.", "请授予额外权限后重新授权（或绑定具有该权限的 Token），或手动配置 Webhook。";
    ErrHookNotAdmin => "The bound account may not manage this repository's webhooks.", "绑定的账号无权管理该仓库的 Webhook。";
    ErrHookNotAdminHint => "Ask a repository administrator (maintainer) to turn auto-build on, or set the webhook up by hand.", "请联系仓库管理员（Maintainer）开启自动构建，或手动配置 Webhook。";
    ErrHookRepoNotFound => "The code host no longer shows this repository to the bound account.", "代码托管平台已不再向绑定账号显示该仓库。";
    ErrHookLimit => "The repository already has as many webhooks as the code host allows.", "该仓库的 Webhook 数量已达代码托管平台上限。";
    ErrHookLimitHint => "Remove an unused webhook in the repository's settings, then try again.", "请在仓库设置中删除不再使用的 Webhook 后重试。";
    ErrHookFilters => "The branch and tag filters are not valid.", "分支和标签过滤规则无效。";
    ErrHookFiltersHint => "Name at least one branch or tag pattern, such as main, release/* or v* (at most 20 of each, up to 100 characters; no spaces, .., ~ ^ : \\ [ and no / at either end).", "请至少填写一个分支或标签规则，例如 main、release/* 或 v*（每类最多 20 条，每条不超过 100 个字符；不能包含空格、..、~ ^ : \\ [，首尾不能是 /）。";
    ErrHookOff => "Auto-build is not on for this repository.", "该仓库未开启自动构建。";
    ErrHookRefNotFound => "The repository has no such branch or tag.", "该仓库没有这个分支或标签。";
    ErrHookBusy => "Auto-build for this repository is being checked or changed right now.", "该仓库的自动构建正在检查或变更中。";
    ErrHookBusyHint => "Try again in a moment.", "请稍后重试。";
    ErrRepoIdMalformed => "That repository is not one from the list.", "该仓库不在列表中。";
    ErrOAuthDenied => "The authorization was declined.", "已取消授权。";
    ErrOAuthDeniedHint => "Bind again and choose Authorize on the code host's page.", "请重新绑定，并在代码托管网站的页面上点击“授权”。";
    ErrOAuthExchange => "The code host refused the authorization ({}).", "代码托管网站拒绝了授权（{}）。";
    ErrOAuthExchangeHint => "Try binding again. If it keeps failing, the OAuth application may be misconfigured: contact your administrator.", "请重新绑定。如持续失败，可能是 OAuth 应用配置有误，请联系管理员。";
    ErrUserLookup => "The account could not be read from the code host.", "无法从代码托管网站读取账号信息。";
    ErrUserLookupHint => "Try binding again in a moment.", "请稍后重新绑定。";
    ErrOAuthState => "This authorization could not be matched to your session.", "该授权无法与当前会话匹配。";
    ErrOAuthStateHint => "It expired, was already used, or was started in another browser or account. Start binding again.", "授权已过期、已被使用，或是在其他浏览器或账号中发起的。请重新发起绑定。";
    ErrWindowClosed => "The authorization window was closed before it finished.", "授权窗口在完成前被关闭。";
    ErrWindowClosedHint => "Bind again and finish the authorization in the window that opens.", "请重新绑定，并在弹出的窗口中完成授权。";
    ErrPopupBlocked => "The browser blocked the authorization window.", "浏览器拦截了授权窗口。";
    ErrPopupBlockedHint => "Allow pop-up windows for this page, then try again.", "请允许此页面打开弹出窗口，然后重试。";
    OAuthDialogTitle => "Bind {} account", "绑定 {} 账号";
    OAuthIntro => "You will sign in at {} in a new window and authorize access. Afterwards this page shows the account for you to confirm.", "将在新窗口中登录 {} 并授权访问，完成后本页面会显示账号供您确认。";
    OAuthScopesGitHub => "Requested access: repo (the build service must read your private repositories; GitHub has no read-only scope for them) and read:user (to show which account is bound).", "申请的权限：repo（构建服务需要读取您的私有仓库，GitHub 没有只读的仓库权限）和 read:user（用于显示绑定的账号）。";
    OAuthScopesBitbucket => "Requested access: account (to show which account is bound) and repository (to read your repositories), as set on the Bitbucket OAuth consumer.", "申请的权限：account（用于显示绑定的账号）和 repository（读取您的仓库），与 Bitbucket OAuth consumer 上的设置一致。";
    OAuthScopesGitee => "Requested access: projects (to read your repositories) and user_info (to show which account is bound).", "申请的权限：projects（读取您的仓库）和 user_info（用于显示绑定的账号）。";
    BuildImages => "Build an image", "去构建镜像";
    OAuthContinue => "Continue to {}", "前往 {} 授权";
    OAuthWaiting => "Waiting for the authorization in the {} window…", "正在等待 {} 窗口中的授权…";
    OAuthFetching => "Authorized at {}. Getting the account…", "已在 {} 授权，正在获取账号…";
    OAuthDoneTitle => "Authorization finished", "授权已完成";
    OAuthDoneBody => "You can close this window and return to the code source page.", "您可以关闭此窗口，返回代码源配置页面。";
    OAuthBackLink => "Back to the code source page", "返回代码源配置页面";
    MissingScopes => "Fewer permissions were granted than requested; missing: {}. The binding can read repositories, but what needs these (such as auto-build's webhooks) will not work.", "授予的权限少于申请的权限，缺少：{}。绑定可以读取仓库，但需要这些权限的功能（如自动构建的 Webhook）将无法使用。";
    ErrNotBound => "This code source is not bound.", "该代码源未绑定。";
    ErrNotBoundHint => "Reload the page to see the current state.", "请刷新页面查看最新状态。";
    ErrPendingExpired => "The check has expired.", "校验结果已过期。";
    ErrPendingExpiredHint => "Start the binding again.", "请重新发起绑定。";
    ErrDefaultBinding => "The DevCloud binding is managed by your cloud account.", "DevCloud 绑定由云账号管理。";
    ErrNotConfigured => "This code source is not configured on this console.", "此控制台未配置该代码源。";
    ErrInternal => "Something went wrong on our side.", "服务内部出错。";
    ErrStorageUnavailable => "Storage is unavailable right now.", "存储服务暂时不可用。";
    ErrStorageUnavailableHint => "Try again in a moment. If you were making a change, reload first to see whether it was saved.", "请稍后重试。如果刚才在进行更改，请先刷新查看是否已保存。";
    ErrInternalHint => "Try again. If it keeps failing, contact support with request ID {}.", "请重试。如持续失败，请联系技术支持并提供请求 ID：{}。";
    ErrTransport => "The console server could not be reached.", "无法连接到控制台服务。";
    ErrTransportHint => "Check your network connection and try again.", "请检查网络连接后重试。";
    ActivityTitle => "Activity", "操作记录";
    ActivityShow => "Show recent activity", "查看最近的操作记录";
    ActivityMore => "Load older entries", "加载更早的记录";
    ActivityEmpty => "No activity yet.", "暂无操作记录。";
    ColTime => "Time", "时间";
    ColActor => "By", "操作者";
    ColAction => "Action", "操作";
    ColOutcome => "Result", "结果";
    ActionBind => "Bound", "绑定";
    ActionUnbind => "Unbound", "解绑";
    ActionReauthorize => "Re-authorized", "重新授权";
    ActionCredential => "Credential issued to the build service", "向构建服务发放凭据";
    ActionRefreshFailed => "Token refresh failed", "Token 刷新失败";
    ActionAutoBuildOn => "Auto-build turned on", "开启自动构建";
    ActionAutoBuildOff => "Auto-build turned off", "关闭自动构建";
    ActionAutoBuildRepaired => "Auto-build webhook repaired", "修复自动构建 Webhook";
    ActionAutoBuildManualBuild => "Build of the latest commit requested", "请求构建最新提交";
    ActionAutoBuildSecretRotated => "Auto-build webhook secret rotated", "轮换自动构建 Webhook 密钥";
    ActorBuildService => "Build service", "构建服务";
    OutcomeOk => "Succeeded", "成功";
    TheCodeHost => "The code host", "代码托管平台";
    OutcomeFailed => "Failed", "失败";
    OutcomeNeedsReauth => "Needs re-authorization: {}", "需要重新授权：{}";
    StatusExpiringSoon => "Expiring soon", "即将过期";
    StatusNeedsReauth => "Needs re-authorization", "需要重新授权";
    Reauthorize => "Re-authorize", "重新授权";
    ReauthorizeAria => "Re-authorize {}", "重新授权 {}";
    LastChecked => "Checked {}", "检查于 {}";
    ExpiresOn => "The token expires on {}.", "Token 将于 {} 过期。";
    ReasonTokenInvalid => "The code host no longer accepts the token.", "代码托管网站已不再接受该 Token。";
    ReasonTokenExpired => "The token has expired.", "Token 已过期。";
    ReasonTokenRevoked => "The token was revoked.", "Token 已被撤销。";
    ReasonScope => "The token can no longer read repositories.", "Token 已无读取仓库的权限。";
    ReasonRefreshRefused => "The code host refused to renew the authorization ({}).", "代码托管网站拒绝续期授权（{}）。";
    ReasonCannotRefresh => "The authorization expired and cannot be renewed.", "授权已过期且无法续期。";
    ErrNeedsReauthHint => "Use Re-authorize on the code source's row.", "请在该代码源所在行点击“重新授权”。";
    Repositories => "Repositories", "仓库";
    RepositoriesAria => "Repositories of {}", "{} 的仓库";
    RepositoriesTitle => "{} repositories of {}", "{} 账号 {} 的仓库";
    RepoSearch => "Search repositories", "搜索仓库";
    RepoNone => "No repositories found.", "未找到仓库。";
    RepoPrivate => "Private", "私有";
    RepoBranches => "Branches", "分支";
    RepoBranchesOf => "Branches of {}", "{} 的分支";
    RepoDefaultBranch => "default", "默认";
    AutoBuild => "Auto-build", "自动构建";
    AutoBuildOf => "Auto-build {}", "自动构建 {}";
    AutoBuildIntro => "Auto-build: a push to a repository with the switch on starts a build. The code host tells us through a webhook that is added for you.", "自动构建：开关打开的仓库在推送后会自动构建。代码托管平台通过自动添加的 Webhook 通知本服务。";
    AutoBuildListFailed => "Which repositories have auto-build on could not be loaded.", "无法加载仓库的自动构建状态。";
    AutoBuildFormTitle => "Build pushes to", "推送以下引用时构建";
    AutoBuildBranches => "Branches", "分支";
    AutoBuildTags => "Tags", "标签";
    AutoBuildPatternsHelp => "Separate patterns with commas or new lines: * matches within one path segment, ** across segments, ? one character. An empty list builds none of that kind.", "多个规则用逗号或换行分隔：* 匹配单级路径中的任意字符，** 可跨多级，? 匹配单个字符。留空表示不构建该类引用。";
    AutoBuildTurnOn => "Turn on", "开启";
    AutoBuildSave => "Save filters", "保存规则";
    AutoBuildEdit => "Edit filters", "修改规则";
    AutoBuildSaving => "Saving…", "正在保存…";
    AutoBuildNone => "none", "无";
    AutoBuildLastDelivery => "Last delivery", "最近投递";
    AutoBuildNoDelivery => "None yet", "暂无";
    AutoBuildManualBadge => "Webhook set up by hand", "手动配置的 Webhook";
    AutoBuildWebhookUrl => "Payload URL", "推送地址（Payload URL）";
    AutoBuildNewTokenHint => "Create a {} token that also has {}, bind it in place of this one, then turn auto-build on again.", "请在 {} 中创建同时具有 {} 权限的 Token，用它重新绑定后再开启自动构建。";
    AutoBuildNewToken => "Bind a new token", "绑定新 Token";
    AutoBuildReauthHint => "Re-authorize {} to grant the webhook permission, then turn auto-build on again.", "请重新授权 {} 以授予 Webhook 权限，然后再开启自动构建。";
    AutoBuildSetUpManually => "Set up manually", "手动配置";
    ManualTitle => "Add this webhook on {}", "在 {} 上添加以下 Webhook";
    ManualIntro => "Auto-build is on and waits for deliveries. In the repository's webhook settings, add a webhook with these values. The secret is shown only now: copy it before you close this.", "自动构建已开启，正在等待推送通知。请在仓库的 Webhook 设置中按以下内容添加 Webhook。密钥只显示这一次，关闭前请先复制。";
    ManualSecret => "Secret", "密钥（Secret）";
    ManualContentType => "Content type", "内容类型（Content type）";
    ManualEvents => "Events", "触发事件";
    ManualSettingsLink => "Open the webhook settings on {}", "前往 {} 的 Webhook 设置";
    AutoBuildStatusActive => "Active", "正常";
    AutoBuildStatusHookMissing => "Webhook missing", "Webhook 缺失";
    AutoBuildStatusHookDisabled => "Webhook disabled", "Webhook 已停用";
    AutoBuildStatusNoPermission => "No permission", "无权限";
    AutoBuildStatusUnreachable => "Code host unreachable", "无法连接代码托管平台";
    AutoBuildStatusGone => "Repository gone", "仓库已不存在";
    AutoBuildHelpHookMissing => "Our webhook is no longer on {} (someone removed it): pushes do not build. Repair adds it again.", "{} 上已没有本服务的 Webhook（可能已被删除），推送不会触发构建。点击“修复”可重新添加。";
    AutoBuildHelpHookDisabled => "{} disabled our webhook (for example after failed deliveries): pushes do not build. Repair replaces it.", "{} 已停用本服务的 Webhook（例如多次投递失败后），推送不会触发构建。点击“修复”可替换为新的 Webhook。";
    AutoBuildHelpNoPermission => "The authorization can no longer manage this repository's webhooks on {}. Re-authorize with the webhook permission (or bind a token that has it), or set the webhook up by hand; then repair.", "当前授权已无法管理该仓库在 {} 上的 Webhook。请重新授权并授予 Webhook 权限（或绑定具有该权限的 Token），或手动配置 Webhook，然后点击“修复”。";
    AutoBuildHelpUnreachable => "{} did not answer at the last check. It is checked again automatically; Repair checks now.", "上次检查时 {} 没有响应。系统会自动重试；点击“修复”可立即检查。";
    AutoBuildHelpGone => "The repository no longer exists on {} under its id (deleted, or deleted and created again). Turn auto-build off, and on again for a re-created repository.", "该仓库在 {} 上已不存在（已删除，或删除后重新创建）。请关闭自动构建；如为重新创建的仓库，请再次开启。";
    AutoBuildRepair => "Repair", "修复";
    AutoBuildRepairOf => "Repair {}", "修复 {}";
    AutoBuildRepairing => "Checking the webhook on {}…", "正在检查 {} 上的 Webhook…";
    AutoBuildRepaired => "Repair finished. Status: {}.", "修复完成，当前状态：{}。";
    AutoBuildRepairNothing => "Nothing needed repair.", "无需修复。";
    RepairHookCreated => "The webhook was missing: it was added again.", "Webhook 已缺失，已重新添加。";
    RepairDisabledHookReplaced => "The webhook was disabled: it was replaced by a new one.", "Webhook 已被停用，已替换为新的 Webhook。";
    RepairDuplicateRemoved => "A duplicate webhook was removed.", "已删除重复的 Webhook。";
    RepairStrayRemoved => "A leftover webhook pointing at this service was removed.", "已删除指向本服务的遗留 Webhook。";
    RepairRenamed => "The repository was renamed: it is now {}.", "仓库已改名，现为 {}。";
    AutoBuildBuild => "Build latest commit", "构建最新提交";
    AutoBuildBuildOf => "Build latest commit of {}", "构建最新提交 {}";
    AutoBuildBuildKind => "Branch or tag", "分支或标签";
    AutoBuildBuildBranch => "Branch", "分支";
    AutoBuildBuildTag => "Tag", "标签";
    AutoBuildBuildName => "Name", "名称";
    AutoBuildBuildHelp => "Its latest commit on {} is built now, whatever the filters say.", "立即构建其在 {} 上的最新提交，不受构建规则限制。";
    AutoBuildBuildSubmit => "Build", "构建";
    AutoBuildBuildNameMissing => "Enter the name of a branch or tag.", "请输入分支或标签名称。";
    AutoBuildBuilding => "Asking {} for the latest commit…", "正在向 {} 查询最新提交…";
    AutoBuildBuilt => "Build requested: {} at commit {}.", "已请求构建：{} 的提交 {}。";
    AutoBuildBuiltBefore => "{} at commit {} was built before: nothing new was requested.", "{} 的提交 {} 已构建过，未重复请求。";
    AutoBuildRotate => "Rotate secret", "轮换密钥";
    AutoBuildRotateOf => "Rotate secret of {}", "轮换密钥 {}";
    AutoBuildRotateConfirm => "Give the webhook of {} a new secret? The webhook on {} is updated at once; deliveries signed with the old secret are still accepted for 24 hours.", "确定为 {} 的 Webhook 更换新密钥吗？{} 上的 Webhook 会立即更新；使用旧密钥签名的投递在 24 小时内仍会被接受。";
    AutoBuildRotateConfirmManual => "Give the webhook of {} a new secret? It is shown once: replace the secret in the webhook settings on {} with it. Deliveries signed with the old secret are still accepted for 24 hours.", "确定为 {} 的 Webhook 更换新密钥吗？新密钥只显示一次，请用它替换 {} 上 Webhook 设置中的密钥。使用旧密钥签名的投递在 24 小时内仍会被接受。";
    AutoBuildRotating => "Rotating the secret…", "正在轮换密钥…";
    AutoBuildRotated => "Secret rotated.", "密钥已轮换。";
    RotatedTitle => "Update the webhook's secret on {}", "在 {} 上更新 Webhook 密钥";
    RotatedIntro => "The secret was rotated. In the repository's webhook settings, replace the secret with this one; the old one is accepted for 24 more hours. It is shown only now: copy it before you close this.", "密钥已轮换。请在仓库的 Webhook 设置中用以下密钥替换原密钥；旧密钥在 24 小时内仍可使用。新密钥只显示这一次，关闭前请先复制。";
    Done => "Done", "完成";
    Deliveries => "Deliveries", "投递记录";
    DeliveriesOf => "Deliveries of {}", "{} 的投递记录";
    DeliveriesRefresh => "Refresh", "刷新";
    DeliveriesNone => "No deliveries yet. Push to the repository and refresh.", "暂无投递记录。向仓库推送后请刷新。";
    ColEvent => "Event", "事件";
    ColRef => "Ref", "引用";
    ColCommit => "Commit", "提交";
    EventManualBuild => "Manual build", "手动构建";
    DeliveryBuilt => "Built", "已构建";
    DeliveryDuplicate => "Duplicate: already built", "重复：已构建过";
    DeliveryIgnored => "Ignored: nothing to build", "已忽略：无需构建";
    DeliveryRefused => "Refused: the signature did not verify", "已拒绝：签名校验失败";
    DeliveryHostError => "The code host could not confirm the push", "代码托管平台未能确认此次推送";
    PagePrev => "Previous page", "上一页";
    PageNext => "Next page", "下一页";
    PageNumber => "Page {}", "第 {} 页";
    UnauthorizedTitle => "Sign-in required", "需要登录";
    UnauthorizedBody => "This page needs a valid console sign-in. Your session may have expired: sign in to the console again.", "此页面需要有效的控制台登录。登录可能已过期，请重新登录控制台。";
    NotFoundTitle => "Page not found", "页面不存在";
}

/// Fills `{}` placeholders in order.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        out.push_str(args.next().copied().unwrap_or(""));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_cookie_then_accept_language() {
        assert_eq!(Locale::negotiate(Some("en"), Some("zh-CN")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("en-US,en;q=0.9")), Locale::En);
        assert_eq!(
            Locale::negotiate(None, Some("fr;q=1, zh;q=0.5, en;q=0.4")),
            Locale::Zh
        );
        assert_eq!(Locale::negotiate(None, Some("de")), Locale::Zh);
        assert_eq!(Locale::negotiate(Some("xx"), Some("en")), Locale::En);
        assert_eq!(Locale::negotiate(None, None), Locale::Zh);
    }

    #[test]
    fn every_message_is_translated() {
        for m in Msg::ALL {
            let (en, zh) = (m.text(Locale::En), m.text(Locale::Zh));
            assert!(!en.is_empty() && !zh.is_empty(), "{m:?}");
            assert_eq!(en.matches("{}").count(), zh.matches("{}").count(), "{m:?}");
        }
    }

    /// Each message is its own literal, whole: the first, one inside, the last.
    #[test]
    fn each_message_is_its_literal() {
        assert_eq!(Msg::PageTitle.text(Locale::En), "Code source configuration");
        assert_eq!(Msg::PageTitle.text(Locale::Zh), "代码源配置");
        assert_eq!(Msg::Loading.text(Locale::En), "Loading…");
        assert_eq!(Msg::Loading.text(Locale::Zh), "加载中…");
        let last = Msg::ALL[Msg::ALL.len() - 1];
        let (en, zh) = (last.text(Locale::En), last.text(Locale::Zh));
        assert_eq!(
            (EN.text.len(), ZH.text.len()),
            (
                EN.text.rfind(en).unwrap() + en.len(),
                ZH.text.rfind(zh).unwrap() + zh.len()
            )
        );
    }

    #[test]
    fn fill_replaces_in_order() {
        assert_eq!(fill("{} and {}", &["a", "b"]), "a and b");
        assert_eq!(fill("no args", &[]), "no args");
    }
}
