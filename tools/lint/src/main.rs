//! Source checks that clippy does not make, run by `scripts/lint.sh`:
//!
//! - no function outside tests is longer than [`MAX_FN_LINES`] lines ([`SHORTER`] in some
//!   folders), but for the few in [`LONG_FUNCTIONS`], each with its reason (and that list holds no
//!   function that got short);
//! - inside `talktime-services`, no module uses one above it in [`SERVICES_LAYERS`].
//!
//! It parses the sources with `syn`; its only argument is the workspace root (default: `.`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use syn::spanned::Spanned;
use syn::visit::Visit;

const MAX_FN_LINES: usize = 80;

/// Folders held to a shorter limit: `(path prefix, lines)`. Settings are read one concern per
/// function, so none grows into a list of everything.
const SHORTER: &[(&str, usize)] = &[("apps/api/src/config/", 60)];

/// Functions allowed to be longer than [`MAX_FN_LINES`]: `(file, function, why)`.
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[];

/// The modules of `talktime-services`, lowest first: a module may use the modules before it, never
/// one after it (nor one in its own row). Providers and plumbing at the bottom, the presence
/// service that everyone notifies through in the middle, then calls, and the services that act
/// on calls (payments extend a running call after a recharge, admins end one) above them.
const SERVICES_LAYERS: &[&[&str]] = &[
    &["error", "secrets", "tokens", "cluster", "ledger", "google", "livekit", "gateway", "sms"],
    &["bus", "cache", "rate_limit", "import"],
    &["directory", "health", "promotions", "tax", "kyc"],
    &["presence", "coupons", "referrals"],
    &["catalog", "auth", "push"],
    &["calls", "accounts", "payouts", "disputes", "notifications"],
    &["wallet", "payments", "admin", "chats"],
    &["dashboard", "plans", "pricing", "reports"],
    // Gifts name the dashboard's periods and chats' client ids.
    &["gifts"],
];

fn main() -> ExitCode {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".to_owned()));
    let mut problems = Vec::new();
    let mut long = BTreeSet::new();
    for file in sources(&root) {
        let relative = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) => {
                problems.push(format!("{relative}: cannot read: {error}"));
                continue;
            }
        };
        let parsed = match syn::parse_file(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                problems.push(format!("{relative}: cannot parse: {error}"));
                continue;
            }
        };
        let mut lengths = Lengths::default();
        lengths.visit_file(&parsed);
        let max = SHORTER.iter().find(|(prefix, _)| relative.starts_with(prefix)).map_or(MAX_FN_LINES, |(_, n)| *n);
        for (name, lines) in lengths.found {
            if lines > max {
                long.insert((relative.clone(), name.clone()));
                if !LONG_FUNCTIONS.iter().any(|(f, n, _)| *f == relative && *n == name) {
                    problems.push(format!("{relative}: fn {name} is {lines} lines (at most {max})"));
                }
            }
        }
        if let Some(module) = services_module(&relative) {
            let mut uses = Uses::default();
            uses.visit_file(&parsed);
            for used in uses.modules {
                if let Some(problem) = layering(&module, &used) {
                    problems.push(format!("{relative}: {problem}"));
                }
            }
        }
    }
    for (file, name, _) in LONG_FUNCTIONS {
        if !long.contains(&((*file).to_owned(), (*name).to_owned())) {
            problems.push(format!("{file}: fn {name} is listed in LONG_FUNCTIONS but is not long (remove it)"));
        }
    }
    if problems.is_empty() {
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    ExitCode::FAILURE
}

/// Every `.rs` file under `crates/*/src`, `apps/*/src` and `tools/*/src` (integration tests
/// apart: they are not held to these rules).
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for group in ["crates", "apps", "tools"] {
        let Ok(entries) = std::fs::read_dir(root.join(group)) else { continue };
        for entry in entries.flatten() {
            walk(&entry.path().join("src"), &mut files);
        }
    }
    files.sort();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.segments.last().is_some_and(|s| s.ident == "test") {
            return true;
        }
        // `#[cfg(test)]` (and `#[cfg(all(test, ...))]`).
        path.is_ident("cfg") && attr.meta.require_list().is_ok_and(|list| list.tokens.to_string().contains("test"))
    })
}

/// Lines of every function with a body, tests apart.
#[derive(Default)]
struct Lengths {
    found: Vec<(String, usize)>,
}

impl Lengths {
    fn record(&mut self, name: &syn::Ident, start: &impl Spanned, block: &syn::Block) {
        let first = start.span().start().line;
        let last = block.brace_token.span.close().end().line;
        self.found.push((name.to_string(), last.saturating_sub(first) + 1));
    }
}

impl<'ast> Visit<'ast> for Lengths {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if !is_test(&item.attrs) {
            syn::visit::visit_item_impl(self, item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test(&item.attrs) {
            self.record(&item.sig.ident, &item.sig, &item.block);
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_test(&item.attrs) {
            self.record(&item.sig.ident, &item.sig, &item.block);
            syn::visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.record(&item.sig.ident, &item.sig, block);
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

/// The top module of a file of `talktime-services` (`calls` for `calls/ending.rs`).
fn services_module(relative: &str) -> Option<String> {
    let inside = relative.strip_prefix("crates/services/src/")?;
    let first = inside.split('/').next()?.trim_end_matches(".rs");
    (first != "lib").then(|| first.to_owned())
}

/// The modules a file names through `crate::…`, in `use` items and in paths.
#[derive(Default)]
struct Uses {
    modules: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(path) = &item.tree
            && path.ident == "crate"
        {
            collect_use(&path.tree, &mut self.modules);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if segments.next().is_some_and(|s| s.ident == "crate")
            && let Some(module) = segments.next()
        {
            self.modules.insert(module.ident.to_string());
        }
        syn::visit::visit_path(self, path);
    }
}

fn collect_use(tree: &syn::UseTree, modules: &mut BTreeSet<String>) {
    match tree {
        syn::UseTree::Path(path) => {
            modules.insert(path.ident.to_string());
        }
        syn::UseTree::Name(name) => {
            modules.insert(name.ident.to_string());
        }
        syn::UseTree::Rename(rename) => {
            modules.insert(rename.ident.to_string());
        }
        syn::UseTree::Group(group) => group.items.iter().for_each(|item| collect_use(item, modules)),
        syn::UseTree::Glob(_) => {}
    }
}

fn layer_of(module: &str) -> Option<usize> {
    SERVICES_LAYERS.iter().position(|row| row.contains(&module))
}

/// Why `module` may not use `used`, if it may not. Items of the crate root (`ServiceError`,
/// `excerpt`…) are for everyone.
fn layering(module: &str, used: &str) -> Option<String> {
    if module == used || used.chars().next().is_some_and(|c| c.is_uppercase()) {
        return None;
    }
    let Some(below) = layer_of(module) else {
        return Some(format!("module `{module}` is not in SERVICES_LAYERS (tools/lint)"));
    };
    match layer_of(used) {
        Some(layer) if layer >= below => Some(format!("`{module}` uses `{used}`, which is not below it")),
        // Not a module of ours: a function or constant at the crate root.
        _ => None,
    }
}
