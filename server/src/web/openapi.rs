//! The OpenAPI 3.0 description of the build service API, served at `/api/openapi.json`
//! (plus the page's server functions: `openapi_fns`).

use serde_json::json;

fn tenant_param() -> serde_json::Value {
    json!({"name": "tenant", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._@:-]{1,128}$"}})
}

/// The API description (OpenAPI 3.0). Under a base path, its one server is that path (relative
/// to where the document was fetched from), so the paths below resolve under it.
/// `listing` names the code sources whose repositories can be listed.
pub fn document(base_path: &str, listing: &[&str]) -> serde_json::Value {
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
                "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                "Reauthorization": {"type": "object", "required": ["error", "reason"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "reason": {"type": "string"}}}
            }
        }
    });
    super::openapi_fns::add_to(&mut doc);
    if !base_path.is_empty() {
        doc["servers"] = json!([{"url": base_path}]);
    }
    doc
}
