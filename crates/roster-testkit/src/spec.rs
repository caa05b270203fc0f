//! The public API specs beside the checkout (`../shared/spec/*.openapi.json`),
//! for tests that check Roster's answers against them with a JSON-schema
//! validator.
//!
//! A user's fresh clone has no `../shared/`: then `Spec::load` answers
//! `None` after printing one line saying why, and the caller skips its
//! schema checks. Under `CI=true` a missing spec is a failure instead.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde_json::{Map, Value};

/// One OpenAPI document.
pub struct Spec {
    name: String,
    document: Value,
}

/// Where the specs live: `$ROSTER_SPEC_DIR`, or `shared/spec` beside the
/// checkout.
pub fn spec_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ROSTER_SPEC_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec")
}

impl Spec {
    /// Loads `<name>.openapi.json`; `None` (with a one-line reason) when the
    /// specs are not there, a panic when they are not there under CI.
    pub fn load(name: &str) -> Option<Spec> {
        let path = spec_dir().join(format!("{name}.openapi.json"));
        if !path.exists() {
            let reason = format!(
                "{} not found (the public API specs sit beside the checkout in CI; set ROSTER_SPEC_DIR to use them elsewhere)",
                path.display()
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and {reason}");
            }
            eprintln!("skipping schema checks: {reason}");
            return None;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        Some(Spec {
            name: name.to_string(),
            document,
        })
    }

    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The path templates and methods the spec defines, e.g.
    /// `("get", "/v1/members/{memberId}")`.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(paths) = self.document["paths"].as_object() {
            for (path, item) in paths {
                for method in ["get", "post", "put", "patch", "delete"] {
                    if item.get(method).is_some() {
                        out.push((method.to_string(), path.clone()));
                    }
                }
            }
        }
        out
    }

    /// The documented status codes of an operation.
    pub fn statuses(&self, method: &str, path: &str) -> Vec<String> {
        self.document["paths"][path][method]["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Checks an answer against the spec: the status must be documented
    /// for the operation, and the body must match the schema documented for
    /// that status (with every `$ref` resolved and formats asserted).
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> anyhow::Result<()> {
        let method = method.to_ascii_lowercase();
        let operation = &self.document["paths"][path][&method];
        if operation.is_null() {
            bail!("{}: no operation {method} {path}", self.name);
        }
        let responses = &operation["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                anyhow!(
                    "{}: {method} {path} does not document status {status} (documents {:?})",
                    self.name,
                    self.statuses(&method, path)
                )
            })?;
        let response = self.resolve(response)?;
        let Some(schema) = response["content"]["application/json"].get("schema") else {
            return Ok(());
        };
        let schema = self.inline(schema, 0)?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| anyhow!("{}: schema of {method} {path} {status}: {e}", self.name))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if !errors.is_empty() {
            bail!(
                "{}: {method} {path} {status} answered a body that does not match its schema:\n  {}\nbody: {body}",
                self.name,
                errors.join("\n  ")
            );
        }
        Ok(())
    }

    /// Follows one `$ref`, if the value is one.
    fn resolve(&self, value: &Value) -> anyhow::Result<Value> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.lookup(reference).cloned(),
            None => Ok(value.clone()),
        }
    }

    fn lookup(&self, reference: &str) -> anyhow::Result<&Value> {
        let pointer = reference
            .strip_prefix('#')
            .with_context(|| format!("only local references are supported: {reference}"))?;
        self.document
            .pointer(pointer)
            .with_context(|| format!("{}: dangling reference {reference}", self.name))
    }

    /// The schema with every local `$ref` replaced by its target, and the
    /// OpenAPI 3.0 `nullable` turned into a JSON-schema type union.
    fn inline(&self, schema: &Value, depth: usize) -> anyhow::Result<Value> {
        if depth > 32 {
            bail!("{}: references nest too deep (a cycle?)", self.name);
        }
        Ok(match schema {
            Value::Object(fields) => {
                if let Some(reference) = fields.get("$ref").and_then(Value::as_str) {
                    return self.inline(self.lookup(reference)?, depth + 1);
                }
                let mut out = Map::new();
                for (key, value) in fields {
                    out.insert(key.clone(), self.inline(value, depth + 1)?);
                }
                if out.remove("nullable") == Some(Value::Bool(true)) {
                    if let Some(Value::String(ty)) = out.get("type").cloned() {
                        out.insert("type".into(), Value::from(vec![ty, "null".to_string()]));
                    }
                    if let Some(Value::Array(values)) = out.get_mut("enum") {
                        values.push(Value::Null);
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.inline(item, depth + 1))
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec {
            name: "test".into(),
            document: json!({
                "paths": {"/things": {"get": {"responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}},
                    "401": {"description": "Unauthorized"}
                }}}},
                "components": {"schemas": {
                    "List": {"type": "object", "properties": {"things": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}},
                    "Thing": {"type": "object", "required": ["id"], "properties": {
                        "id": {"type": "integer"},
                        "at": {"type": "string", "format": "date-time"},
                        "kind": {"type": "string", "enum": ["a", "b"], "nullable": true}
                    }}
                }}
            }),
        }
    }

    #[test]
    fn bodies_are_checked_through_references_and_formats() {
        let spec = spec();
        spec.check(
            "GET",
            "/things",
            200,
            &json!({"things": [{"id": 1, "at": "2026-01-01T00:00:00Z", "kind": null}]}),
        )
        .unwrap();
        for bad in [
            json!({"things": [{"id": "1"}]}),
            json!({"things": [{}]}),
            json!({"things": [{"id": 1, "at": "yesterday"}]}),
            json!({"things": [{"id": 1, "kind": "c"}]}),
        ] {
            assert!(
                spec.check("GET", "/things", 200, &bad).is_err(),
                "{bad} passed"
            );
        }
    }

    #[test]
    fn undocumented_statuses_and_operations_fail() {
        let spec = spec();
        spec.check("GET", "/things", 401, &Value::Null).unwrap();
        assert!(spec.check("GET", "/things", 500, &Value::Null).is_err());
        assert!(spec.check("POST", "/things", 200, &Value::Null).is_err());
    }
}
