//! `engine`: a name (`local`, `redis`) or a mapping with `redis: URL` and the engine's
//! settings, read into an [`EngineSpec`]. Whether the settings fit the backend is the
//! planner's.

use super::Reader;
use crate::names::EngineKind;
use crate::spec::job::{At, ENGINE_FIELDS, EngineSpec};
use crate::spec::tree::{Kind, Node};

impl Reader<'_> {
    pub(super) fn engine(&mut self, node: &Node) -> Option<At<EngineSpec>> {
        let names = EngineKind::ALL.map(|k| (k.name(), k));
        if !matches!(node.kind, Kind::Map(_)) {
            let kind = self.choice(node, "engine", &names)?;
            return Some(At { value: EngineSpec { kind: kind.value, ..EngineSpec::default() }, pos: node.pos });
        }
        let mut spec = EngineSpec { kind: EngineKind::Redis, ..EngineSpec::default() };
        let mut named = false;
        for (name, child) in self.entries(node, "engine.", &ENGINE_FIELDS) {
            match name {
                "redis" => {
                    named = true;
                    if !matches!(child.kind, Kind::Null) {
                        spec.url = self.string(child, "engine.redis");
                    }
                }
                "key" => spec.key = self.string(child, "engine.key"),
                "timeout" => spec.timeout = self.timeout_as(child, "engine.timeout"),
                "retries" => spec.retries = self.integer(child, "engine.retries"),
                "exactly_once" => spec.exactly_once = self.boolean(child, "engine.exactly_once"),
                "fencing" => spec.fencing = self.boolean(child, "engine.fencing"),
                "pipeline" => spec.pipeline = self.integer(child, "engine.pipeline"),
                _ => spec.lease = self.timeout_as(child, "engine.lease"),
            }
        }
        if !named && !self.diags.iter().any(|d| d.field.as_deref().is_some_and(|f| f.starts_with("engine"))) {
            self.error(node.pos, "engine.redis", "missing required field (the server's URL, or null for RUNNER_REDIS)");
        }
        Some(At { value: spec, pos: node.pos })
    }
}
