//! The OpenAPI 3.0 description of the build service API, served at `/api/openapi.json`
//! (plus the page's server functions: `openapi_fns`).

use serde_json::json;

/// The auto-build paths and schemas (`web/service_api/autobuild.rs`).
fn add_autobuild(doc: &mut serde_json::Value, err: &dyn Fn(&str) -> serde_json::Value) {
    let all: Vec<&str> = app::api::Provider::ALL.iter().map(|p| p.as_str()).collect();
    let params = json!([
        tenant_param(),
        {"name": "provider", "in": "path", "required": true, "schema": {"type": "string", "enum": all}},
        {"name": "id", "in": "path", "required": true, "description": "The repository id a listing hands out (or the host's stable id)",
         "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": crate::hosts::RepoId::PATTERN}}
    ]);
    let common = |extra: serde_json::Value| {
        let mut r = json!({
            "400": err("The tenant id, the repository id or the body is not valid"),
            "401": err("No service token"), "403": err("Wrong service token, or the grant cannot manage hooks (`missing_scope` with `needed_scopes`, `not_repository_admin`)"),
            "404": err("Not bound, unknown code source, repository not found, or auto-build is off (`auto_build_off`)"),
            // Needs re-authorization (with `reason`), or the code source has no hook API.
            "409": err("The binding needs re-authorization (`reauthorization_required`, with `reason`), or the code source has no webhook API (`auto_build_unsupported`)"),
            "429": err("The tenant has too many calls to code hosts running; retry shortly"),
            "500": err("Internal error"), "502": err("The code host did not answer as expected"), "503": err("Storage or the token refresh is unavailable; retry later")
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            r[k] = v.clone();
        }
        r
    };
    let paths = &mut doc["paths"];
    paths["/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build"] = json!({
        "parameters": params.clone(),
        "get": {
            "summary": "The repository's auto-build registration",
            "operationId": "getAutoBuild",
            "security": [{"serviceToken": []}],
            "responses": common(json!({"200": {"description": "Auto-build is on", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AutoBuild"}}}}}))
        },
        "put": {
            "summary": "Turn auto-build on (or change its filters): registers one webhook on the code host",
            "description": "Glob patterns over branch and tag names (`*` within a segment, `**` across, `?` one character); an empty list builds none of that kind, both empty is refused (422). With `manual: true` nothing is registered on the host: the answer's `manual_setup` holds the payload URL, the secret (shown once) and the events to tick.",
            "operationId": "putAutoBuild",
            "security": [{"serviceToken": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AutoBuildFilters"}}}},
            "responses": common(json!({
                "200": {"description": "Auto-build is on", "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AutoBuild"}}}},
                "409": err("The binding needs re-authorization, the code source has no hook API (`auto_build_unsupported`), or the repository has as many hooks as the host allows (`hook_limit_reached`)"),
                "422": err("The filters are not valid (`invalid_filters`)")
            }))
        },
        "delete": {
            "summary": "Turn auto-build off: the webhook is removed from the code host",
            "description": "With `dismiss=true`: forget an orphaned registration (its binding was removed or re-bound to another account, and the code host could not remove its hook; see the unbind's `hooks_left`) without calling the code host: remove the hook by hand in the repository's webhook settings. `id` is the host's stable id or the listing's id; 404 `not_orphaned` when there is no such orphaned registration.",
            "operationId": "deleteAutoBuild",
            "security": [{"serviceToken": []}],
            "parameters": [{"name": "dismiss", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}}],
            "responses": common(json!({
                "204": {"description": "Auto-build is off and the hook is gone (or, dismissing: the orphaned registration is forgotten)"},
                "404": err("Dismissing: no orphaned registration for this repository (`not_orphaned`)")
            }))
        }
    });
    paths["/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/deliveries"] = json!({
        "parameters": params.clone(),
        "get": {
            "summary": "The repository's last deliveries (at most 50), newest first",
            "operationId": "listDeliveries",
            "security": [{"serviceToken": []}],
            "responses": common(json!({"200": {"description": "Deliveries", "content": {"application/json": {"schema": {
                "type": "object", "required": ["deliveries"], "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}}}}}}}))
        }
    });
    let view = json!({"$ref": "#/components/schemas/AutoBuild"});
    paths["/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/repair"] = json!({
        "parameters": params.clone(),
        "post": {
            "summary": "Check the registration at the code host and put it right",
            "description": "Follows a rename or transfer by the repository's stable id, re-creates a missing hook, replaces one the host disabled, removes duplicates and strays (hooks at our ingress that no registration owns). The answer is the registration with its new `status` (and `fix`), what was `found` and the `changes` made. A repository that no longer exists under its id is marked `repository_gone`. The same check runs periodically (`CODESOURCE_RECONCILE_INTERVAL_SECS`).",
            "operationId": "repairAutoBuild",
            "security": [{"serviceToken": []}],
            "responses": common(json!({
                "200": {"description": "Checked", "content": {"application/json": {"schema": {"allOf": [view.clone(), {"type": "object", "properties": {
                    "found": {"type": "string", "enum": ["fine", "manual", "hook_missing", "hook_disabled", "no_permission", "unreachable", "repository_gone"]},
                    "changes": {"type": "array", "items": {"type": "string", "enum": ["hook_created", "disabled_hook_replaced", "duplicate_removed", "stray_removed", "renamed"]}}}}]}}}},
                "409": err("The binding needs re-authorization, the repository has as many hooks as the host allows (`hook_limit_reached`), or a check is already running (`auto_build_busy`)")
            }))
        }
    });
    paths["/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/build"] = json!({
        "parameters": params.clone(),
        "post": {
            "summary": "Build the latest commit of a branch or tag",
            "description": "The ref's head is read from the code host; the event is marked `manual: true` and has the id a push of the same ref and commit would have, so the two are one event. 201 with the new event; 200 with `duplicate: true` when it already existed.",
            "operationId": "buildAutoBuild",
            "security": [{"serviceToken": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                "minProperties": 1, "maxProperties": 1,
                "properties": {"branch": {"type": "string", "minLength": 1, "maxLength": crate::autobuild::manual::MAX_REF_NAME}, "tag": {"type": "string", "minLength": 1, "maxLength": crate::autobuild::manual::MAX_REF_NAME}},
                "description": "Exactly one of `branch` and `tag`"}}}},
            "responses": common(json!({
                "200": {"description": "The event already existed", "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/BuildEvent"}, {"type": "object", "properties": {"duplicate": {"type": "boolean"}}}]}}}},
                "201": {"description": "A new event", "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/BuildEvent"}, {"type": "object", "properties": {"duplicate": {"type": "boolean"}}}]}}}},
                "404": err("Not bound, unknown code source, auto-build is off, or no such branch or tag (`ref_not_found`)"),
                "422": err("Neither or both of `branch` and `tag`, or a name git does not allow (`invalid_ref`)")
            }))
        }
    });
    paths["/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/rotate-secret"] = json!({
        "parameters": params.clone(),
        "post": {
            "summary": "Give the registration's webhook a new secret",
            "description": "The hook keeps its id and URL; deliveries signed with the previous secret are accepted for 24 hours. For manual setup the answer's `manual_setup` holds the new secret (shown once).",
            "operationId": "rotateAutoBuildSecret",
            "security": [{"serviceToken": []}],
            "responses": common(json!({"200": {"description": "Rotated", "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
                "content": {"application/json": {"schema": view.clone()}}}}))
        }
    });
    paths["/api/v1/tenants/{tenant}/auto-build/rotate-secrets"] = json!({
        "parameters": [tenant_param()],
        "post": {
            "summary": "Rotate the secrets of all of the tenant's registrations",
            "description": "One line per registration: `error` null when rotated, else the error code; `manual_setup` with the new secret for manual setups (shown once).",
            "operationId": "rotateAutoBuildSecrets",
            "security": [{"serviceToken": []}],
            "responses": {
                "200": {"description": "Each registration's outcome", "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
                    "content": {"application/json": {"schema": {"type": "object", "required": ["registrations"], "properties": {"registrations": {"type": "array", "items": {
                        "type": "object", "required": ["provider", "repository", "full_name"], "properties": {
                            "provider": {"type": "string", "enum": all}, "repository": {"type": "string"}, "full_name": {"type": "string"},
                            "error": {"type": "string", "nullable": true}, "manual_setup": {"type": "object"}}}}}}}}},
                "400": err("The tenant id is not valid"), "401": err("No service token"), "403": err("Wrong service token"),
                "500": err("Internal error"), "503": err("Storage is unavailable; retry later")
            }
        }
    });
    paths["/api/v1/build-events"] = json!({
        "get": {
            "summary": "Build events after a cursor, oldest first (at least once; de-duplicate by `id`)",
            "description": "Pass `next` back as `after`. With `wait` the request is held open until an event arrives or the wait is over (long poll, across replicas).",
            "operationId": "listBuildEvents",
            "security": [{"serviceToken": []}],
            "parameters": [
                {"name": "after", "in": "query", "required": false, "schema": {"type": "integer", "format": "int64", "minimum": 0}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": crate::autobuild::feed::MAX_LIMIT}},
                {"name": "wait", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": crate::autobuild::feed::MAX_WAIT.as_secs()}}
            ],
            "responses": {
                "200": {"description": "A page of events", "content": {"application/json": {"schema": {"type": "object", "required": ["events", "next"], "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/BuildEvent"}}, "next": {"type": "string"}}}}}},
                "400": err("A parameter is not valid"), "401": err("No service token"), "403": err("Wrong service token"),
                "500": err("Internal error"), "503": err("Storage is unavailable; retry later")
            }
        }
    });
    let schemas = &mut doc["components"]["schemas"];
    let patterns = json!({"type": "array", "maxItems": app::api::filter_limits::MAX_PATTERNS,
        "items": {"type": "string", "minLength": 1, "maxLength": app::api::filter_limits::MAX_PATTERN_LEN}});
    schemas["AutoBuildFilters"] = json!({"type": "object", "additionalProperties": false, "properties": {
        "branches": patterns.clone(), "tags": patterns, "manual": {"type": "boolean"}}});
    schemas["AutoBuild"] = json!({"type": "object", "required": ["repository", "repository_id", "full_name", "status", "branches", "tags", "webhook_url", "created_at"], "properties": {
        "repository": {"type": "string"}, "repository_id": {"type": "string", "description": "The code host's stable id"},
        "full_name": {"type": "string"}, "status": {"type": "string", "enum": ["active", "manual_setup", "hook_missing", "hook_disabled", "no_permission", "host_unreachable", "repository_gone"],
            "description": "What the last check found (`fix` says what to do: hook_missing/hook_disabled → repair, no_permission → reauthorize, host_unreachable → retry, repository_gone → turn_off)"},
        "fix": {"type": "string", "enum": ["none", "repair", "reauthorize", "retry", "turn_off"]},
        "checked_at": {"type": "integer", "format": "int64", "nullable": true, "description": "Unix milliseconds of the last check"},
        "branches": {"type": "array", "items": {"type": "string"}}, "tags": {"type": "array", "items": {"type": "string"}},
        "webhook_url": {"type": "string"}, "created_at": {"type": "integer", "format": "int64"},
        "last_delivery_at": {"type": "integer", "format": "int64", "nullable": true, "description": "Unix milliseconds"},
        "manual_setup": {"type": "object", "properties": {"payload_url": {"type": "string"}, "secret": {"type": "string"}, "content_type": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}}, "settings_url": {"type": "string", "nullable": true}}}}});
    schemas["Delivery"] = json!({"type": "object", "required": ["at_ms", "event", "outcome"], "properties": {
        "at_ms": {"type": "integer", "format": "int64"}, "delivery_id": {"type": "string", "nullable": true}, "event": {"type": "string"},
        "git_ref": {"type": "string", "nullable": true}, "commit": {"type": "string", "nullable": true},
        "outcome": {"type": "string", "enum": ["built", "duplicate", "ignored", "refused", "host_error"]}}});
    schemas["BuildEvent"] = json!({"type": "object", "required": ["id", "cursor", "tenant", "provider", "account", "repository", "ref", "ref_type", "ref_name", "commit", "received_at", "manual"], "properties": {
        "id": {"type": "string", "description": "Stable: the same ref at the same commit is one event"},
        "cursor": {"type": "string"}, "tenant": {"type": "string"}, "provider": {"type": "string", "enum": all}, "account": {"type": "string"},
        "repository": {"type": "object", "required": ["id", "full_name"], "properties": {"id": {"type": "string"}, "full_name": {"type": "string"}, "clone_url": {"type": "string", "nullable": true}}},
        "ref": {"type": "string"}, "ref_type": {"type": "string", "enum": ["branch", "tag"]}, "ref_name": {"type": "string"},
        "commit": {"type": "string"}, "before": {"type": "string", "nullable": true}, "pusher": {"type": "string", "nullable": true},
        "delivery_id": {"type": "string", "nullable": true}, "received_at": {"type": "integer", "format": "int64", "description": "Unix milliseconds"},
        "manual": {"type": "boolean"}}});
}

fn tenant_param() -> serde_json::Value {
    json!({"name": "tenant", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._@:-]{1,128}$"}})
}

/// The API description (OpenAPI 3.0). Under a base path, its one server is that path (relative
/// to where the document was fetched from), so the paths below resolve under it.
/// `listing` names the code sources whose repositories can be listed.
pub fn document(base_path: &str, listing: &[&str]) -> serde_json::Value {
    // Every code the API answers with, from its one error type.
    use super::ErrorCode;
    let error_codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let error_help: String = ErrorCode::ALL
        .iter()
        .map(|c| format!("`{}` ({})", c.as_str(), c.status().as_u16()))
        .collect::<Vec<_>>()
        .join(", ");
    let all: Vec<&str> = app::api::Provider::ALL.iter().map(|p| p.as_str()).collect();
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Code Source Binding: build service API", "version": env!("CARGO_PKG_VERSION")},
        "paths": {
            "/api/v1/tenants/{tenant}/code-sources/{provider}/credential": {
                "get": {
                    "summary": "A credential for the tenant's binding, valid for at least 5 more minutes",
                    "operationId": "getCredential",
                    "security": [{"serviceToken": []}],
                    "parameters": [
                        tenant_param(),
                        {"name": "provider", "in": "path", "required": true, "schema": {"type": "string", "enum": all}}
                    ],
                    "responses": {
                        "200": {"description": "The credential", "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credential"}}}},
                        "400": err("The tenant id is not valid"),
                        "401": err("No service token"),
                        "403": err("Wrong service token"),
                        "404": err("Not bound, or unknown code source"),
                        "409": {"description": "The binding needs re-authorization", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reauthorization"}}}},
                        "500": err("Internal error"),
                        "503": err("The code host could not refresh the token right now, or storage is unavailable; retry later")
                    }
                }
            },
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories": {
                "get": {
                    "summary": "The bound account's repositories, 20 a page",
                    "operationId": "listRepositories",
                    "security": [{"serviceToken": []}],
                    "parameters": [
                        tenant_param(),
                        {"name": "provider", "in": "path", "required": true, "schema": {"type": "string", "enum": listing}},
                        {"name": "search", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 100}},
                        {"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}
                    ],
                    "responses": {
                        "200": {"description": "A page of repositories", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RepoPage"}}}},
                        "400": err("The tenant id or a parameter is not valid"), "401": err("No service token"), "403": err("Wrong service token"),
                        "404": err("Not bound, or unknown code source"),
                        "409": {"description": "The binding needs re-authorization", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reauthorization"}}}},
                        "429": err("The tenant has too many calls to code hosts running; retry shortly"), "500": err("Internal error"), "502": err("The code host did not answer as expected"), "503": err("Refresh unavailable; retry later")
                    }
                }
            },
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/branches": {
                "get": {
                    "summary": "The branches of one repository (id from the repository listing)",
                    "operationId": "listBranches",
                    "security": [{"serviceToken": []}],
                    "parameters": [
                        tenant_param(),
                        {"name": "provider", "in": "path", "required": true, "schema": {"type": "string", "enum": listing}},
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": crate::hosts::RepoId::PATTERN}}
                    ],
                    "responses": {
                        "200": {"description": "The branches", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Branch"}}}}},
                        "400": err("The tenant id or a parameter is not valid"), "401": err("No service token"), "403": err("Wrong service token"),
                        "404": err("Not bound, or unknown code source"),
                        "409": {"description": "The binding needs re-authorization", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reauthorization"}}}},
                        "429": err("The tenant has too many calls to code hosts running; retry shortly"), "500": err("Internal error"), "502": err("The code host did not answer as expected"), "503": err("Refresh unavailable; retry later")
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Credential": {
                    "type": "object",
                    "required": ["provider", "base_url", "account"],
                    "properties": {
                        "provider": {"type": "string", "enum": all},
                        "base_url": {"type": "string", "description": "The code host's web/clone base: the GitLab address, GitHub or Gitee base, or for DevCloud the CodeArts Repo HTTPS clone host of the region (`CODESOURCE_DEVCLOUD_URL`)"},
                        "api_url": {"type": "string", "nullable": true},
                        "account": {"type": "string"},
                        "access_token": {"type": "string", "nullable": true, "description": "Absent for DevCloud (the tenant's cloud account is used)"},
                        "expires_at": {"type": "integer", "format": "int64", "nullable": true, "description": "Unix seconds"},
                        "git_username": {"type": "string", "nullable": true, "description": "Username for git over HTTPS (GitLab: oauth2, GitHub: x-access-token, Gitee: the login)"},
                        "ca_pem": {"type": "string", "nullable": true, "description": "CA certificate of a private GitLab"}
                    }
                },
                "RepoPage": {"type": "object", "required": ["items", "page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Repository"}},
                    "page": {"type": "integer"}, "next_page": {"type": "integer", "nullable": true}}},
                "Repository": {"type": "object", "required": ["id", "full_name", "private"], "properties": {
                    "id": {"type": "string"}, "stable_id": {"type": "string", "description": "The host's own id, stable across renames (GitHub, Gitea, Gitee: numeric id; GitLab: project id; Bitbucket: uuid)"},
                    "full_name": {"type": "string"}, "private": {"type": "boolean"},
                    "web_url": {"type": "string", "nullable": true}, "default_branch": {"type": "string", "nullable": true}}},
                "Branch": {"type": "object", "required": ["name", "default"], "properties": {"name": {"type": "string"}, "default": {"type": "boolean"}}},
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "enum": error_codes, "description": error_help},
                    "message": {"type": "string"}}},
                "Reauthorization": {"type": "object", "required": ["error", "reason"], "properties": {"error": {"type": "string", "enum": ["reauthorization_required"]}, "message": {"type": "string"}, "reason": {"type": "string"}}}
            }
        }
    });
    add_autobuild(&mut doc, &err);
    crate::web::openapi_fns::add_to(&mut doc);
    if !base_path.is_empty() {
        doc["servers"] = json!([{"url": base_path}]);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenAPI requires operation ids to be unique; the build service's calls and the page's
    /// server functions name the same actions (repair, rotate), so they must differ.
    #[test]
    fn operation_ids_are_unique() {
        let doc = document("", &["gitlab"]);
        let mut seen = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                    assert!(seen.insert(id.to_string()), "{id} again at {method} {path}");
                }
            }
        }
        assert!(seen.contains("repairAutoBuild") && seen.contains("loadPage"));
    }
}
