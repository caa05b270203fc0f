//! The OpenAPI documents, the offline Swagger UI and `roster openapi`:
//! the served documents are valid OpenAPI 3.1, they are the documents the
//! code generates, and where a path is also in the seed Tenant API spec its
//! shapes agree with the seed's.

use std::collections::{BTreeSet, HashSet};

use reqwest::Method;
use roster_http::openapi::Surface;
use roster_testkit::Spec;
use serde_json::{json, Value};

use crate::on_both_backends;

/// Our structural schema of an OpenAPI 3.1 document (see its `$comment`).
const OPENAPI_31_SCHEMA: &str = include_str!("fixtures/openapi-3.1.schema.json");

/// Everything that makes `doc` an invalid OpenAPI 3.1 document; empty when
/// it is valid.
fn openapi_31_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let structure: Value = serde_json::from_str(OPENAPI_31_SCHEMA).expect("fixture is JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&structure)
        .expect("fixture is a JSON schema");
    for error in validator.iter_errors(doc) {
        problems.push(format!("{error} at {}", error.instance_path()));
    }
    // Schema Objects are JSON Schema 2020-12 in OpenAPI 3.1.
    walk(doc, "", &mut |pointer, value| {
        if pointer.ends_with("/schema")
            || pointer.starts_with("/components/schemas/") && pointer.matches('/').count() == 3
        {
            if let Err(error) = jsonschema::draft202012::meta::validate(value) {
                problems.push(format!(
                    "{pointer}: not a JSON Schema 2020-12 schema: {error}"
                ));
            }
        }
        if let Some(target) = value.get("$ref").and_then(Value::as_str) {
            match target.strip_prefix('#') {
                Some(local) if doc.pointer(local).is_some() => {}
                _ => problems.push(format!("{pointer}: $ref {target} does not resolve")),
            }
        }
    });
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut operation_ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, operation) in item.as_object().into_iter().flatten() {
            if ![
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str())
            {
                continue;
            }
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if declared != templated {
                problems.push(format!(
                    "{method} {path}: path parameters {declared:?} but template has {templated:?}"
                ));
            }
            if let Some(id) = operation["operationId"].as_str() {
                if !operation_ids.insert(id.to_string()) {
                    problems.push(format!("operationId {id} is used twice"));
                }
            }
            for requirement in operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(doc["security"].as_array().into_iter().flatten())
            {
                for name in requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    if !schemes.contains_key(name) {
                        problems.push(format!(
                            "{method} {path}: security scheme {name} is not defined"
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Calls `visit(json_pointer, value)` on every value of the tree.
fn walk(value: &Value, pointer: &str, visit: &mut dyn FnMut(&str, &Value)) {
    visit(pointer, value);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                walk(child, &format!("{pointer}/{escaped}"), visit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, &format!("{pointer}/{index}"), visit);
            }
        }
        _ => {}
    }
}

fn generated(surface: Surface) -> Value {
    serde_json::to_value(surface.document()).expect("document serializes")
}

#[test]
fn the_structural_check_catches_invalid_documents() {
    let mut doc = generated(Surface::Tenant);
    assert!(
        openapi_31_problems(&doc).is_empty(),
        "{:#?}",
        openapi_31_problems(&doc)
    );
    doc["openapi"] = json!("3.0.3");
    doc["info"].as_object_mut().unwrap().remove("version");
    let first = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|p| p.contains('{'))
        .unwrap()
        .clone();
    let operation = doc["paths"][&first]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    operation["parameters"] = json!([]);
    operation["responses"]["200"] =
        json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}});
    let problems = openapi_31_problems(&doc).join("\n");
    for expected in ["3.0.3", "version", "path parameters", "Nope", "description"] {
        assert!(
            problems.contains(expected),
            "{expected} not reported in:\n{problems}"
        );
    }
}

on_both_backends! {
    async fn served_documents_are_the_generated_ones_and_valid_openapi_3_1(app) {
        for surface in Surface::ALL {
            let answer = app.call_raw(Method::GET, surface.document_path(), None, None).await;
            let body = answer.expect(200);
            assert_eq!(body, generated(surface), "{} serves what the code generates", surface.name());
            assert_eq!(body["openapi"], "3.1.0");
            let problems = openapi_31_problems(&body);
            assert!(problems.is_empty(), "{}: {problems:#?}", surface.name());
        }
        // The Tenant API document describes its extensions and paging.
        let tenant = generated(Surface::Tenant);
        for path in ["/api/v1/auth/login", "/api/v1/orgs/{org_id}/api-keys", "/api/v1/orgs/{org_id}/audit-events"] {
            assert!(tenant["paths"][path].is_object(), "{path} documented");
        }
        let schemes = &tenant["components"]["securitySchemes"];
        assert_eq!(schemes["BearerAuth"]["scheme"], "bearer");
        assert_eq!(schemes["ApiKeyAuth"]["in"], "header");
        assert_eq!(schemes["ApiKeyAuth"]["name"], "apikey");
        let list = &tenant["paths"]["/api/v1/orgs/{org_id}/members"]["get"];
        let names: Vec<&str> = list["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        for name in ["limit", "cursor", "q", "role"] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert_eq!(list["responses"]["404"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorResponse");
    }
}

/// Differences between our document and the seed's for every operation
/// the seed has: ours must offer every seed operation, parameter, status
/// and property; answer at least what the seed promises; and demand no
/// more than the seed's clients send. Extensions (more properties, more
/// statuses, more enum values) are allowed.
fn seed_disagreements(ours: &Value, seed: &Value, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (path, seed_item) in seed["paths"].as_object().into_iter().flatten() {
        for (method, seed_op) in seed_item.as_object().into_iter().flatten() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let at = format!("{} {prefix}{path}", method.to_uppercase());
            let our_op = &ours["paths"][format!("{prefix}{path}")][method];
            if !our_op.is_object() {
                out.push(format!("{at}: missing"));
                continue;
            }
            let params = |op: &Value, doc: &Value| -> Vec<(String, String, bool)> {
                op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| resolve(doc, p))
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or_default().to_string(),
                            p["in"].as_str().unwrap_or_default().to_string(),
                            p["required"] == true,
                        )
                    })
                    .collect()
            };
            let seed_params = params(seed_op, seed);
            let our_params = params(our_op, ours);
            for (name, place, required) in &seed_params {
                match our_params.iter().find(|(n, p, _)| n == name && p == place) {
                    None => out.push(format!("{at}: parameter {name} in {place} missing")),
                    Some((_, _, ours_required)) if ours_required != required => out.push(format!(
                        "{at}: parameter {name} required={ours_required}, seed {required}"
                    )),
                    _ => {}
                }
            }
            for (name, place, required) in &our_params {
                if *required && !seed_params.iter().any(|(n, p, _)| n == name && p == place) {
                    out.push(format!(
                        "{at}: requires parameter {name} in {place} that the seed lacks"
                    ));
                }
            }
            let seed_body = &seed_op["requestBody"]["content"]["application/json"]["schema"];
            if !seed_body.is_null() {
                let our_body = &our_op["requestBody"]["content"]["application/json"]["schema"];
                if our_body.is_null() {
                    out.push(format!("{at}: request body missing"));
                } else {
                    compare(
                        &format!("{at} request"),
                        ours,
                        our_body,
                        seed,
                        seed_body,
                        Direction::Request,
                        &mut out,
                    );
                }
            }
            for (status, seed_response) in seed_op["responses"].as_object().into_iter().flatten() {
                let our_response = &our_op["responses"][status];
                if !our_response.is_object() {
                    // An error status we never answer need not be documented
                    // (e.g. 404 on a list of one's own orgs); a success must.
                    if status.starts_with('2') {
                        out.push(format!("{at}: status {status} not documented"));
                    }
                    continue;
                }
                let seed_schema =
                    &resolve(seed, seed_response)["content"]["application/json"]["schema"];
                if seed_schema.is_null() {
                    continue;
                }
                let our_schema =
                    &resolve(ours, our_response)["content"]["application/json"]["schema"];
                if our_schema.is_null() {
                    out.push(format!("{at} {status}: no JSON body documented"));
                    continue;
                }
                compare(
                    &format!("{at} {status}"),
                    ours,
                    our_schema,
                    seed,
                    seed_schema,
                    Direction::Response,
                    &mut out,
                );
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// What a client sends: we must accept all the seed's clients send.
    Request,
    /// What we answer: we must send at least what the seed promises.
    Response,
}

fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => value = doc.pointer(pointer).unwrap_or(&Value::Null),
            None => break,
        }
    }
    value
}

/// The JSON types a schema admits (3.0's `nullable` and 3.1's type arrays).
fn types(schema: &Value) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = match &schema["type"] {
        Value::String(t) => [t.clone()].into(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    };
    if schema["nullable"] == true {
        set.insert("null".to_string());
    }
    set
}

/// A schema with `oneOf`/`anyOf` of a `$ref` and `null` (how 3.1 spells a
/// nullable reference) reduced to the referenced schema.
fn unwrap_nullable<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let non_null: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
            if non_null.len() == 1 {
                return resolve(doc, non_null[0]);
            }
        }
    }
    schema
}

fn compare(
    at: &str,
    ours_doc: &Value,
    ours: &Value,
    seed_doc: &Value,
    seed: &Value,
    direction: Direction,
    out: &mut Vec<String>,
) {
    let ours = unwrap_nullable(ours_doc, ours);
    let seed = unwrap_nullable(seed_doc, seed);
    let (our_types, seed_types) = (types(ours), types(seed));
    if !seed_types.is_empty() && !our_types.is_empty() {
        let non_null = |s: &BTreeSet<String>| {
            s.iter()
                .filter(|t| *t != "null")
                .cloned()
                .collect::<BTreeSet<_>>()
        };
        let agree = match direction {
            Direction::Request => {
                seed_types.is_subset(&our_types) || non_null(&seed_types).is_subset(&our_types)
            }
            Direction::Response => non_null(&our_types).is_subset(&seed_types),
        };
        if !agree {
            out.push(format!("{at}: type {our_types:?}, seed {seed_types:?}"));
        }
    }
    if let Some(format) = seed["format"].as_str() {
        if ours["format"].as_str() != Some(format) {
            out.push(format!("{at}: format {}, seed {format}", ours["format"]));
        }
    }
    if let Some(seed_enum) = seed["enum"].as_array() {
        let our_enum = ours["enum"].as_array().cloned().unwrap_or_default();
        for value in seed_enum {
            if !our_enum.contains(value) {
                out.push(format!("{at}: enum lacks the seed's {value}"));
            }
        }
    }
    if direction == Direction::Request {
        if let Some(max) = ours["maxLength"].as_u64() {
            if seed["maxLength"]
                .as_u64()
                .is_none_or(|seed_max| seed_max > max)
            {
                out.push(format!(
                    "{at}: maxLength {max} is stricter than the seed's {}",
                    seed["maxLength"]
                ));
            }
        }
        if let Some(min) = ours["minLength"].as_u64() {
            if seed["minLength"].as_u64().unwrap_or(0) < min {
                out.push(format!(
                    "{at}: minLength {min} is stricter than the seed's {}",
                    seed["minLength"]
                ));
            }
        }
    }
    let required = |s: &Value| -> BTreeSet<String> {
        s["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect()
    };
    let (our_required, seed_required) = (required(ours), required(seed));
    match direction {
        Direction::Response => {
            for name in seed_required.difference(&our_required) {
                out.push(format!(
                    "{at}: {name} is required by the seed but optional here"
                ));
            }
        }
        Direction::Request => {
            for name in our_required.difference(&seed_required) {
                out.push(format!(
                    "{at}: requires {name}, which the seed's clients may omit"
                ));
            }
        }
    }
    for (name, seed_property) in seed["properties"].as_object().into_iter().flatten() {
        match ours["properties"].get(name) {
            None => out.push(format!("{at}: property {name} missing")),
            Some(our_property) => compare(
                &format!("{at}.{name}"),
                ours_doc,
                our_property,
                seed_doc,
                seed_property,
                direction,
                out,
            ),
        }
    }
    if !seed["items"].is_null() {
        if ours["items"].is_null() {
            out.push(format!("{at}: array items undocumented"));
        } else {
            compare(
                &format!("{at}[]"),
                ours_doc,
                &ours["items"],
                seed_doc,
                &seed["items"],
                direction,
                out,
            );
        }
    }
}

#[test]
fn the_tenant_document_agrees_with_the_seed_spec_where_paths_overlap() {
    let Some(seed) = Spec::load("tenant-api") else {
        return;
    };
    let ours = generated(Surface::Tenant);
    let disagreements = seed_disagreements(&ours, seed.document(), "");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // Every seed operation is one of ours, so the comparison covered them all.
    assert_eq!(seed.operations().len(), 9);
}

#[test]
fn the_members_and_organization_documents_agree_with_their_seed_specs() {
    // The Organization API's seed names its base `/v2` as a server URL.
    for (name, surface, prefix) in [
        ("spice-members", Surface::Members, ""),
        ("ango-organization", Surface::Organization, "/v2"),
    ] {
        let Some(seed) = Spec::load(name) else {
            return;
        };
        let disagreements = seed_disagreements(&generated(surface), seed.document(), prefix);
        assert!(disagreements.is_empty(), "{name}: {disagreements:#?}");
    }
}

#[test]
fn the_seed_comparison_notices_a_differing_shape() {
    let Some(seed) = Spec::load("tenant-api") else {
        return;
    };
    let mut ours = generated(Surface::Tenant);
    let schemas = ours["components"]["schemas"].as_object_mut().unwrap();
    let member = schemas.get_mut("AddOrganizationMemberResponse").unwrap();
    member["properties"]
        .as_object_mut()
        .unwrap()
        .remove("member_email");
    member["properties"]["member_id"]["format"] = json!("email");
    ours["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/api/v1/orgs/{org_id}");
    let found = seed_disagreements(&ours, seed.document(), "").join("\n");
    for expected in [
        "member_email missing",
        "format \"email\", seed uuid",
        "GET /api/v1/orgs/{org_id}: missing",
    ] {
        assert!(
            found.contains(expected),
            "{expected} not found in:\n{found}"
        );
    }
}

on_both_backends! {
    async fn the_docs_page_is_served_from_the_binary_with_no_outside_url(app) {
        let redirect = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
        assert_eq!(redirect.url().path(), "/docs/", "/docs leads to the page");
        assert_eq!(redirect.status(), 200);
        let csp = redirect.headers()["content-security-policy"].to_str().unwrap().to_string();
        for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(redirect.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = redirect.text().await.unwrap();
        let mut assets = Vec::new();
        for attribute in ["src=\"", "href=\""] {
            for part in html.split(attribute).skip(1) {
                let target = part.split('"').next().unwrap();
                assert!(!target.contains("//"), "the page loads {target} from elsewhere");
                assets.push(target.trim_start_matches("./").to_string());
            }
        }
        assert!(assets.iter().any(|a| a.ends_with(".js")), "the page loads scripts: {assets:?}");
        assets.push("swagger-initializer.js".to_string());
        for asset in &assets {
            let response = app.client.get(format!("{}/docs/{asset}", app.base)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            let text = String::from_utf8_lossy(&response.bytes().await.unwrap()).to_string();
            for cdn in ["unpkg.com", "jsdelivr", "cdnjs", "googleapis", "fonts.g"] {
                assert!(!text.contains(cdn), "{asset} mentions {cdn}");
            }
            if asset == "swagger-initializer.js" {
                assert!(!text.contains("http://") && !text.contains("https://"), "{text}");
                // Swagger UI would otherwise send the document to its
                // public validator service.
                assert!(text.contains(r#""validatorUrl": "none""#), "{text}");
                for surface in Surface::ALL {
                    assert!(text.contains(surface.document_path()), "{text}");
                }
            }
        }
    }
}

#[test]
fn roster_openapi_prints_the_generated_documents() {
    for surface in Surface::ALL {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(["openapi", "--surface", surface.name()])
            .output()
            .expect("run roster");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
        assert_eq!(printed, generated(surface));
    }
    let default = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("openapi")
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&default.stdout).expect("JSON on stdout");
    assert_eq!(printed["info"]["title"], "Roster Tenant API");
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["openapi", "--surface", "nope"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown surface"));
}

/// The documents name the API key prefix the server issues (`rsk_`), not
/// a stale one, wherever they describe keys.
#[test]
fn the_documents_name_the_api_key_prefix_the_server_issues() {
    let prefix = roster_core::service::API_KEY_PREFIX;
    assert_eq!(prefix, "rsk_");
    for surface in [Surface::Tenant, Surface::Members, Surface::Organization] {
        let text = generated(surface).to_string();
        assert!(!text.contains("rst_"), "{surface:?} names the wrong prefix");
    }
    let tenant = generated(Surface::Tenant);
    let bearer = tenant["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes")
        .values()
        .find(|scheme| scheme["scheme"] == "bearer")
        .expect("a bearer scheme");
    assert!(
        bearer["description"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("`{prefix}…`")),
        "{bearer}"
    );
}
