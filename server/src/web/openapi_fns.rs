//! The server functions (the page's own API: JSON over POST under `/api/`) in the OpenAPI
//! document, so the contract test covers them with the caller's identity too. Each takes a
//! JSON object and answers JSON; errors are an `ApiError` (a string such as `"NotBound"`, or a
//! one-key object such as `{"Invalid": "CaInvalid"}`).

use app::api::filter_limits::{MAX_PATTERNS, MAX_PATTERN_LEN};
use app::api::limits::{ADDRESS_MAX, CA_PEM_MAX, TOKEN_MAX};
use serde_json::{json, Value};

/// A branch or tag glob the server accepts (`autobuild::filters`, after git check-ref-format):
/// no control characters, space, `~ ^ : \ [`, no `..`, no leading or trailing `/`. Printable
/// ASCII only here: the server takes other characters too, but limits a pattern to 100 bytes,
/// which a JSON Schema length (in characters) cannot say. Written without lookaheads, which not
/// every JSON Schema tool supports: runs of allowed characters with single dots between, before
/// or after them, joined by slashes.
const FILTER_PATTERN: &str = concat!(
    r"^(?:\.?(?:[!-\-0-9;-Z\]_-}]+\.)*[!-\-0-9;-Z\]_-}]+\.?|\.)",
    r"(?:/+(?:\.?(?:[!-\-0-9;-Z\]_-}]+\.)*[!-\-0-9;-Z\]_-}]+\.?|\.))*$"
);

/// (endpoint, operation id, summary, request body schema)
fn functions() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    let ids: Vec<&str> = app::api::Provider::ALL.iter().map(|p| p.as_str()).collect();
    let provider = json!({"type": "string", "enum": ids});
    let id = json!({"type": "string", "pattern": "^[0-9a-f]{32}$"});
    // Unknown fields are ignored, as JSON APIs usually do.
    let obj = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required, "additionalProperties": true});
    // A repository as a listing hands it out (what `code-sources/branches` takes as `repo_id`).
    let repo = json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": crate::hosts::RepoId::PATTERN});
    let patterns = json!({"type": "array", "maxItems": MAX_PATTERNS, "items": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LEN, "pattern": FILTER_PATTERN}});
    // `{"branch": name}` or `{"tag": name}`, as the build service's call takes it.
    let ref_name = json!({"type": "string", "minLength": 1, "maxLength": crate::autobuild::manual::MAX_REF_NAME});
    let git_ref = json!({"oneOf": [
        {"type": "object", "properties": {"branch": ref_name.clone()}, "required": ["branch"], "additionalProperties": false},
        {"type": "object", "properties": {"tag": ref_name}, "required": ["tag"], "additionalProperties": false}]});
    // Both lists empty would build nothing: refused, so not a valid request.
    let filters = json!({"type": "object", "properties": {"branches": patterns.clone(), "tags": patterns},
        "anyOf": [{"required": ["branches"], "properties": {"branches": {"minItems": 1}}},
                  {"required": ["tags"], "properties": {"tags": {"minItems": 1}}}],
        "additionalProperties": true});
    vec![
        (
            "code-sources/page",
            "loadPage",
            "The table, the viewer and the dialogs' settings",
            obj(json!({}), &[]),
        ),
        (
            "code-sources/token/check",
            "checkToken",
            "Checks an address and personal access token at an access-token host (calls that host)",
            obj(
                json!({"provider": provider.clone(), "address": {"type": "string", "maxLength": ADDRESS_MAX}, "token": {"type": "string", "maxLength": TOKEN_MAX},
                       "ca_pem": {"type": "string", "nullable": true, "maxLength": CA_PEM_MAX}}),
                &["provider", "address", "token"],
            ),
        ),
        (
            "code-sources/pending",
            "loadPending",
            "A checked or authorized account waiting for Confirm",
            obj(json!({"pending_id": id}), &["pending_id"]),
        ),
        (
            "code-sources/latest-pending",
            "latestPending",
            "The newest authorized account of a code host waiting for Confirm",
            obj(json!({"provider": provider}), &["provider"]),
        ),
        (
            "code-sources/confirm",
            "confirmBinding",
            "Stores a checked or authorized account",
            obj(json!({"pending_id": id}), &["pending_id"]),
        ),
        (
            "code-sources/cancel",
            "cancelBinding",
            "Drops a checked or authorized account",
            obj(json!({"pending_id": id}), &["pending_id"]),
        ),
        (
            "code-sources/unbind",
            "unbind",
            "Deletes a binding, revoking upstream where possible. Answers `{\"revocation\": \"Revoked\" | \"NotRequested\" | \"Manual\" | \"Failed\", \"hooks_left\": [{\"repository\", \"repository_id\", \"settings_url\"}]}`: the auto-build hooks the code host could not remove now (retried in the background until removed or dismissed; `settings_url` is the repository's webhook settings, to remove one by hand)",
            obj(
                json!({"provider": provider, "revoke": {"type": "boolean"}}),
                &["provider"],
            ),
        ),
        (
            "code-sources/repositories",
            "listRepositoriesOfPage",
            "The bound account's repositories",
            obj(
                json!({"provider": provider, "search": {"type": "string", "maxLength": 100}, "page": {"type": "integer", "minimum": 1, "maximum": 10000}}),
                &["provider", "search", "page"],
            ),
        ),
        (
            "code-sources/branches",
            "listBranchesOfPage",
            "A repository's branches",
            obj(
                json!({"provider": provider, "repo_id": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": crate::hosts::RepoId::PATTERN}}),
                &["provider", "repo_id"],
            ),
        ),
        (
            "code-sources/auto-build/list",
            "listAutoBuilds",
            "The bound account's repositories with auto-build on",
            obj(json!({"provider": provider}), &["provider"]),
        ),
        (
            "code-sources/auto-build/enable",
            "enableAutoBuild",
            "Turns auto-build on for a repository (adds a webhook at the code host), or changes its filters; with manual, answers what to paste into the code host instead",
            obj(
                json!({"provider": provider, "repo": repo,
                       "filters": filters,
                       "manual": {"type": "boolean"}}),
                &["provider", "repo", "filters"],
            ),
        ),
        (
            "code-sources/auto-build/disable",
            "disableAutoBuild",
            "Turns auto-build off for a repository (removes our webhook at the code host)",
            obj(
                json!({"provider": provider, "repo": repo}),
                &["provider", "repo"],
            ),
        ),
        (
            "code-sources/auto-build/deliveries",
            "listAutoBuildDeliveries",
            "A repository's last webhook deliveries and how each ended",
            obj(
                json!({"provider": provider, "repo": repo}),
                &["provider", "repo"],
            ),
        ),
        (
            "code-sources/auto-build/repair",
            "repairAutoBuildOfPage",
            "Checks a repository's webhook at the code host now and puts it right (a missing or disabled hook, duplicates and strays, a rename); answers `{\"view\", \"changes\"}`",
            obj(
                json!({"provider": provider, "repo": repo}),
                &["provider", "repo"],
            ),
        ),
        (
            "code-sources/auto-build/build",
            "buildLatestCommitOfPage",
            "Builds the latest commit of a branch or tag now (one build event marked manual); answers `{\"git_ref\", \"commit\", \"duplicate\"}`, or `{\"AutoBuild\": \"RefNotFound\"}` for a name the repository has no branch or tag of",
            obj(
                json!({"provider": provider, "repo": repo, "git_ref": git_ref}),
                &["provider", "repo", "git_ref"],
            ),
        ),
        (
            "code-sources/auto-build/rotate-secret",
            "rotateAutoBuildSecretOfPage",
            "Gives a repository's webhook a new secret (same hook and URL; the old secret is accepted for 24 hours); for a hook set up by hand, answers the new secret once (`manual`)",
            obj(
                json!({"provider": provider, "repo": repo}),
                &["provider", "repo"],
            ),
        ),
        (
            "code-sources/activity",
            "loadActivity",
            "The tenant's activity log, 20 entries a page",
            obj(
                json!({"before": {"type": "string", "nullable": true, "maxLength": 512}}),
                &[],
            ),
        ),
        (
            "preferences/locale",
            "setLocale",
            "Remembers the language",
            obj(
                json!({"tag": {"type": "string", "enum": ["zh-CN", "en"]}}),
                &["tag"],
            ),
        ),
    ]
}

/// Adds the server functions, the `ApiError` schema and the identity scheme to `doc`.
pub fn add_to(doc: &mut Value) {
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}});
    for (endpoint, op, summary, body) in functions() {
        doc["paths"][format!("/api/{endpoint}")] = json!({"post": {
            "summary": summary,
            "operationId": op,
            "tags": ["page"],
            "security": [{"consoleIdentityCookie": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {"description": "The result (JSON)", "content": {"application/json": {"schema": {}}},
                        "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}},
                "400": err("Malformed request (not JSON, not UTF-8), or an OAuth state that does not match"),
                "401": err("No valid console identity"),
                "403": err("Cross-site request"),
                "404": err("Nothing is bound"),
                "409": err("Not allowed in the binding's state (default binding, not configured, needs re-authorization)"),
                "410": err("The pending account expired or was used"),
                "413": err("Body over 64 KiB"),
                "415": err("Not application/json"),
                "422": err("A field is missing, of the wrong type, or not valid; or the code host refused the token, or the address is not allowed"),
                "429": err("Too many calls to code hosts at once for this tenant"),
                "500": err("Internal error (the request id finds it in the log)"),
                "502": err("The code host failed or could not be reached"),
                "504": err("The code host did not answer in time"),
                "503": err("Storage unavailable; retry later (reload first: a change may have been saved)")
            }
        }});
    }
    doc["components"]["schemas"]["ApiError"] = json!({
        "description": "A unit variant as a string (\"NotBound\"), or a one-key object ({\"Invalid\": \"CaInvalid\"})",
        "oneOf": [{"type": "string"}, {"type": "object", "minProperties": 1, "maxProperties": 1}]
    });
    // The console's identity token; `Authorization: Bearer` with the same token works too.
    doc["components"]["securitySchemes"]["consoleIdentityCookie"] =
        json!({"type": "apiKey", "in": "cookie", "name": "console_identity"});
}
