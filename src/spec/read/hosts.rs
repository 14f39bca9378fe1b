//! `hosts`: a list of mappings, each with a `name` and the `command` prefix that starts a
//! process on that host, read into [`HostSpec`]s. Whether the engine allows hosts, and how the
//! workers are split across them, is the planner's.

use super::Reader;
use crate::spec::job::{At, HOST_FIELDS, HostSpec};
use crate::spec::tree::{Kind, Node};

impl Reader<'_> {
    pub(super) fn hosts(&mut self, node: &Node) -> Option<At<Vec<At<HostSpec>>>> {
        let Kind::Seq(items) = &node.kind else {
            let what = node.describe();
            self.error(node.pos, "hosts", format!("expected a list of hosts, found {what}"));
            return None;
        };
        let mut hosts = Vec::new();
        for item in items {
            if !matches!(item.kind, Kind::Map(_)) {
                let what = item.describe();
                self.error(item.pos, "hosts", format!("expected a mapping with name and command; found {what}"));
                continue;
            }
            let mut host = HostSpec::default();
            for (name, child) in self.entries(item, "hosts.", &HOST_FIELDS) {
                match name {
                    "name" => host.name = self.string(child, "hosts.name"),
                    _ => host.command = self.string(child, "hosts.command"),
                }
            }
            if host.name.is_none() && !self.diags.iter().any(|d| d.field.as_deref() == Some("hosts.name")) {
                self.error(item.pos, "hosts.name", "missing required field (the host's name)");
            }
            if host.command.is_none() && !self.diags.iter().any(|d| d.field.as_deref() == Some("hosts.command")) {
                self.error(
                    item.pos,
                    "hosts.command",
                    "missing required field (`ssh HOST`, `ip netns exec NS`, or \"\" for this machine)",
                );
            }
            hosts.push(At { value: host, pos: item.pos });
        }
        Some(At { value: hosts, pos: node.pos })
    }
}
