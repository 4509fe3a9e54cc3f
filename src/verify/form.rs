//! The form a guide carries: what its template is given, and where in the page it goes.

use serde::Serialize;

use super::provider::{ProviderInfo, ScopeName};
use super::providers;
use crate::frontmatter::VerifySpec;

/// The marker a writer puts in the Markdown where the form should appear.
pub const MARKER: &str = "<!-- docsite:verify -->";

/// What `partials/verify.html` is rendered with, as `verify`.
#[derive(Debug, Serialize)]
pub struct FormContext {
    /// The provider's names, labels and notices.
    pub provider: &'static ProviderInfo,
    /// The Instance URL the form starts with.
    pub instance_url: String,
    /// The Display name the form starts with.
    pub display_name: String,
    /// The tenant the form starts with (Entra only).
    pub tenant: String,
    /// The scopes requested, by both names.
    pub scopes: Vec<ScopeName>,
    /// Scopes without a known UI name.
    pub other_scopes: Vec<String>,
    /// The scopes as the form posts them.
    pub scopes_value: String,
    /// The page's own URL, to come back to.
    pub page_url: String,
}

/// The form's context for a page, or `None` for an unknown provider (frontmatter already
/// refuses those).
pub fn context(spec: &VerifySpec, page_url: &str) -> Option<FormContext> {
    let provider = providers::find(&spec.provider)?.info();
    let requested: Vec<String> = match &spec.scopes {
        Some(s) => s.clone(),
        None => provider.scopes.iter().map(|s| s.api.to_string()).collect(),
    };
    let scopes = requested
        .iter()
        .filter_map(|api| provider.scopes.iter().find(|s| s.api == api).copied())
        .collect();
    let other_scopes = requested
        .iter()
        .filter(|api| !provider.scopes.iter().any(|s| s.api == api.as_str()))
        .cloned()
        .collect();
    Some(FormContext {
        provider,
        instance_url: spec
            .instance_url
            .clone()
            .unwrap_or_else(|| provider.default_instance_url.to_string()),
        display_name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| provider.name.to_string()),
        tenant: spec
            .tenant
            .clone()
            .unwrap_or_else(|| "organizations".into()),
        scopes_value: requested.join(" "),
        scopes,
        other_scopes,
        page_url: page_url.to_string(),
    })
}

/// Where the form goes in the page's HTML, and the level its heading takes there: at the marker,
/// else at the end of the section `section` names (before the next heading of the same or a
/// higher level, one level below that section's heading), else at the end (as an h2). The error
/// names a section that is not on the page.
pub fn locate(html: &str, section: Option<&str>) -> Result<(usize, u8), String> {
    let level_before = |at: usize| {
        let before = &html[..at];
        (1..=6u8)
            .filter_map(|l| before.rfind(&format!("<h{l} ")).map(|i| (i, l)))
            .max()
            .map_or(2, |(_, l)| (l + 1).min(6))
    };
    if let Some(at) = html.find(MARKER) {
        return Ok((at, level_before(at)));
    }
    let Some(section) = section else {
        return Ok((html.len(), 2));
    };
    let found = (1..=6u8).find_map(|level| {
        html.find(&format!("<h{level} id=\"{section}\""))
            .map(|at| (level, at))
    });
    let Some((level, at)) = found else {
        return Err(format!(
            "`verify.section` is `{section}`, but no heading on the page has that id"
        ));
    };
    let rest = &html[at + 3..];
    let end = rest
        .match_indices("<h")
        .find(|(i, _)| {
            let b = rest.as_bytes();
            matches!(b.get(i + 2), Some(d) if (b'1'..=b'0' + level).contains(d))
                && matches!(b.get(i + 3), Some(b' ') | Some(b'>'))
        })
        .map_or(html.len(), |(i, _)| at + 3 + i);
    Ok((end, (level + 1).min(6)))
}

/// `html` with `form` at `at` (from [`locate`]), replacing the marker if it is there.
pub fn insert(html: &str, at: usize, form: &str) -> String {
    let rest = &html[at..];
    let rest = rest.strip_prefix(MARKER).unwrap_or(rest);
    format!("{}{form}{rest}", &html[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str =
        "<h2 id=\"a\">A</h2><p>a</p><h3 id=\"a1\">A1</h3><p>x</p><h2 id=\"b\">B</h2><p>b</p>";

    fn place(html: &str, section: Option<&str>) -> Result<(String, u8), String> {
        locate(html, section).map(|(at, level)| (insert(html, at, "[F]"), level))
    }

    #[test]
    fn the_form_ends_its_section_one_level_below_it() {
        let (html, level) = place(PAGE, Some("a1")).unwrap();
        assert_eq!(
            html,
            "<h2 id=\"a\">A</h2><p>a</p><h3 id=\"a1\">A1</h3><p>x</p>[F]<h2 id=\"b\">B</h2><p>b</p>"
        );
        assert_eq!(level, 4);
        let (html, level) = place(PAGE, Some("a")).unwrap();
        assert!(html.contains("<p>x</p>[F]<h2 id=\"b\""));
        assert_eq!(level, 3);
        assert!(place(PAGE, Some("b")).unwrap().0.ends_with("<p>b</p>[F]"));
        assert_eq!(place(PAGE, None).unwrap(), (format!("{PAGE}[F]"), 2));
        assert!(place(PAGE, Some("nope")).unwrap_err().contains("nope"));
    }

    #[test]
    fn the_marker_wins() {
        let html = format!("<h2 id=\"s\">S</h2><p>1</p>{MARKER}<p>2</p>");
        let (out, level) = place(&html, Some("x")).unwrap();
        assert_eq!(out, "<h2 id=\"s\">S</h2><p>1</p>[F]<p>2</p>");
        assert_eq!(level, 3);
    }

    #[test]
    fn context_uses_the_provider_defaults() {
        let spec = VerifySpec {
            provider: "azure-devops".into(),
            ..Default::default()
        };
        let c = context(&spec, "/docs/x/").unwrap();
        assert_eq!(c.instance_url, "https://dev.azure.com");
        assert_eq!(c.display_name, "Azure DevOps");
        assert_eq!(
            c.scopes_value,
            "vso.code_full vso.identity vso.project vso.profile"
        );
        assert_eq!(c.scopes[0].ui, "Code (full)");
    }
}
