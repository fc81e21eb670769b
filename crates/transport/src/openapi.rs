//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Talktime API",
        description = "REST API of Talktime, a paid one-to-one audio and video calling platform. \
                       Every response uses the envelope `{success, message, data}`; errors carry a stable `code`."
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Phone login with one-time codes"),
        (name = "users", description = "A phone account's own data, plans, favorites and the telecaller list"),
        (name = "telecaller", description = "A telecaller's profile, application and bank details"),
        (name = "calls", description = "Call history, feedback and reports (calls themselves run over WebSocket)"),
        (name = "payments", description = "Recharges through Razorpay and withdrawals"),
        (name = "chats", description = "Paid chat history and messages (chats themselves run over WebSocket)"),
        (name = "gifts", description = "The gift catalogue (gifts are sent over WebSocket)"),
        (name = "admin", description = "Operators (cookie or bearer)"),
        (name = "operations", description = "Health and documentation"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::extract::AUTH_COOKIE))),
        );
    }
}

/// The document as served at `/openapi.json`: the annotations, completed with the answers every
/// operation of its kind can give (see [`complete`]).
pub fn document() -> serde_json::Value {
    use utoipa_actix_web::AppExt;
    // The paths come from the routes as the server registers them (a throwaway app collects
    // them), so an endpoint is declared once, where its handler is.
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    complete(&mut doc);
    doc
}

/// The document, built once for the process (it only changes with the code).
fn built() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(document);
    &DOCUMENT
}

/// The JSON of [`document`], built once.
pub fn document_json() -> &'static [u8] {
    static JSON: std::sync::LazyLock<Vec<u8>> =
        std::sync::LazyLock::new(|| serde_json::to_vec(built()).unwrap_or_default());
    &JSON
}

/// Adds to every operation the statuses the envelope gives it whatever the handler does, so no
/// answer goes undocumented: 400 for input it validates (body, query, path), 401 and 403 when it
/// needs a token (missing or revoked; wrong role, suspended or not approved), 404 for ids in the
/// path (also a malformed one), 413 for a body over 64 KiB. Statuses that depend on the handler
/// (409, 429, 502, 503) are in its own annotation.
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let error = |description: &str| {
        json!({ "description": description,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } })
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            let secured = operation.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            // Every authenticated route takes the bearer token, else the panel's cookie (only an
            // admin gets one, so on a phone account's route it answers 403, not 401).
            if let Some(security) = operation.get_mut("security").and_then(Value::as_array_mut)
                && !security.is_empty()
                && !security.iter().any(|s| s.get("cookie").is_some())
            {
                security.push(json!({ "cookie": [] }));
            }
            let has_body = operation.get("requestBody").is_some();
            let has_query = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let has_path = path.contains('{');
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error(description));
            };
            if has_body || has_query || has_path {
                add("400", "Invalid input: `validation_error` names each field in `errors`");
            }
            if secured {
                add("401", "Missing, invalid, expired or revoked token");
                add("403", "Wrong role, suspended account, or a profile not allowed to do this");
            }
            if has_path {
                add("404", "No such resource (or not yours), or a malformed id");
            }
            if has_body {
                add("413", "Request body over 64 KiB");
            }
            if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
                for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
                    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                    if let Some(schema) = parameter.get_mut("schema") {
                        refuse_control_characters(&name, schema);
                    }
                }
            }
        }
    }
    // Request bodies' text fields, likewise.
    let bodies: Vec<String> = paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| op.pointer("/requestBody/content/application~1json/schema/$ref"))
        .filter_map(|r| r.as_str()?.strip_prefix("#/components/schemas/").map(str::to_owned))
        .collect();
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for name in bodies {
            let Some(properties) = schemas.get_mut(&name).and_then(|s| s.get_mut("properties")) else { continue };
            for (field, schema) in properties.as_object_mut().into_iter().flatten() {
                refuse_control_characters(field, schema);
            }
        }
    }
}

/// Control characters are refused in all text (line breaks and tabs allowed where text spans
/// lines; see `extract::MULTILINE`): say so in the schema of each free-text field.
fn refuse_control_characters(field: &str, schema: &mut serde_json::Value) {
    let is_text = match &schema["type"] {
        serde_json::Value::String(t) => t == "string",
        serde_json::Value::Array(types) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    let constrained = ["enum", "pattern", "format"].iter().any(|k| schema.get(*k).is_some());
    if !is_text || constrained {
        return;
    }
    let pattern = if crate::extract::MULTILINE.contains(&field) {
        r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    } else {
        r"^[^\u0000-\u001F\u007F-\u009F]*$"
    };
    schema["pattern"] = pattern.into();
}

/// The methods the document lists for the path a request went to, when some operation matches
/// it: a request there with another method is answered 405 with `Allow` (not 404).
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static ROUTES: std::sync::LazyLock<Vec<(Vec<String>, String)>> = std::sync::LazyLock::new(|| {
        let Some(paths) = built().get("paths").and_then(serde_json::Value::as_object) else { return Vec::new() };
        paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let methods: Vec<String> =
                    item.as_object().map(|ops| ops.keys().map(|m| m.to_uppercase()).collect()).unwrap_or_default();
                (segments, methods.join(", "))
            })
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .find(|(template, _)| {
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .map(|(_, methods)| methods.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    use talktime_domain::money::{MAX_COINS_PER_SECOND, MAX_MIN_BALANCE_SECONDS, MAX_SETTING_COINS};

    /// Served outside the REST contract: the document itself, the pages that show it, the
    /// console, and the WebSocket endpoints (in `docs/realtime.md`).
    const UNDOCUMENTED: &[&str] = &["/openapi.json", "/docs", "/console", "/ws/"];

    /// Every `#[get("/…")]`-style route attribute in the route modules, as `METHOD /path`.
    fn served_routes() -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let mut routes = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in source.lines().map(str::trim) {
                for method in ["get", "post", "put", "patch", "delete"] {
                    let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) else { continue };
                    let path = rest.split('"').next().unwrap();
                    if !UNDOCUMENTED.iter().any(|u| path.starts_with(u)) {
                        routes.insert(format!("{} {path}", method.to_uppercase()));
                    }
                }
            }
        }
        routes
    }

    fn documented_routes() -> BTreeSet<String> {
        let doc = super::document();
        let mut routes = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        routes
    }

    #[test]
    fn every_served_route_is_documented_and_every_documented_one_served() {
        let served = served_routes();
        let documented = documented_routes();
        assert!(served.len() > 40, "the route scan found too few routes: {served:?}");
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:?}");
        assert!(unserved.is_empty(), "in the OpenAPI document but not served: {unserved:?}");
    }

    /// Schemas are named by their type's name alone: two `ToSchema` types of one name would
    /// silently share one entry in the document.
    #[test]
    fn schema_type_names_are_unique() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.join("views.rs"), root.join("error.rs")];
        files.extend(std::fs::read_dir(root.join("routes")).unwrap().map(|e| e.unwrap().path()));
        let mut seen = std::collections::BTreeMap::new();
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            let mut schema = false;
            for line in source.lines().map(str::trim) {
                if line.starts_with("#[derive(") {
                    schema = line.contains("ToSchema");
                } else if let Some(rest) = line.strip_prefix("pub struct ").or_else(|| line.strip_prefix("pub enum ")) {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if schema && let Some(other) = seen.insert(name.clone(), file.clone()) {
                        panic!("two schemas named {name}: {} and {}", other.display(), file.display());
                    }
                    schema = false;
                }
            }
        }
        assert!(seen.len() > 30, "the scan found too few schemas: {seen:?}");
    }

    /// utoipa takes only literals for bounds; these keep them equal to the rules' constants.
    #[test]
    fn documented_setting_bounds_are_the_enforced_ones() {
        let doc = super::document();
        let config = &doc["components"]["schemas"]["ConfigRequest"]["properties"];
        let plan = &doc["components"]["schemas"]["PlanRequest"]["properties"];
        assert_eq!(config["minWithdrawalCoins"]["maximum"], MAX_SETTING_COINS);
        assert_eq!(plan["coins"]["maximum"], MAX_SETTING_COINS);
        assert_eq!(config["userVideoCallCoinPerSec"]["maximum"], MAX_COINS_PER_SECOND);
        assert_eq!(config["telecallerAudioCallCoinPerSec"]["maximum"], MAX_COINS_PER_SECOND);
        assert_eq!(config["minCallBalanceSeconds"]["maximum"], MAX_MIN_BALANCE_SECONDS);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for page in item["get"]["parameters"].as_array().into_iter().flatten().filter(|p| p["name"] == "page") {
                assert_eq!(page["schema"]["maximum"], crate::routes::rules::MAX_PAGE, "{path}");
            }
        }
    }

    #[test]
    fn the_documented_push_token_bound_is_the_enforced_one() {
        let doc = super::document();
        let token = &doc["components"]["schemas"]["DeviceRequest"]["properties"]["token"];
        assert_eq!(token["maxLength"], talktime_domain::push::PUSH_TOKEN_MAX_CHARS);
    }
}
