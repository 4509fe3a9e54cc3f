//! The security headers `docsite serve` and `docsite host` put on every answer: a Content
//! Security Policy that runs only the site's own script files and the inline scripts the theme
//! (and the preview) ship, by hash; no framing; no MIME sniffing; no referrer, because the
//! verify form's pages and callback carry codes; and HSTS when the server speaks TLS.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use sha2::Digest;

/// The headers of one server.
#[derive(Clone, Debug)]
pub struct Policy {
    csp: HeaderValue,
    hsts: bool,
}

/// The CSP source for an inline script's text: `'sha256-…'`.
pub fn script_hash(source: &str) -> String {
    let digest = sha2::Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The bodies of the inline scripts in a template: `<script>` elements without a `src`, whose
/// text has no template expression (a script that changes per page cannot be hashed once).
pub fn inline_scripts(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        let body = &body_start[..close];
        if !tag.contains("src=") && !body.contains("{{") && !body.contains("{%") {
            found.push(body);
        }
        rest = &body_start[close..];
    }
    found
}

/// The inline scripts of the built-in templates and of the site's own `templates/` folder.
pub fn theme_scripts(site_root: Option<&Path>) -> Vec<String> {
    let mut scripts: Vec<String> = crate::theme::BUILTIN_TEMPLATES
        .iter()
        .flat_map(|(_, text)| inline_scripts(text))
        .map(str::to_string)
        .collect();
    if let Some(root) = site_root {
        let dir = root.join("templates");
        for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if entry.path().extension().is_some_and(|e| e == "html") {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    scripts.extend(inline_scripts(&text).into_iter().map(str::to_string));
                }
            }
        }
    }
    scripts
}

impl Policy {
    /// The policy for a server whose pages may run these inline scripts; `tls`: it speaks https.
    pub fn new(inline: &[String], tls: bool) -> Policy {
        let mut hashes: Vec<String> = inline.iter().map(|s| script_hash(s)).collect();
        hashes.sort();
        hashes.dedup();
        // Styles stay open to inline use: the theme's and the preview's panels set them, and a
        // style cannot run code. Images and frames may come from other https sites, as
        // Markdown often embeds them.
        let csp = format!(
            "default-src 'self'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: https:; media-src 'self' https:; frame-src 'self' https:; \
             object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
            hashes.join(" ")
        );
        Policy {
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
            hsts: tls,
        }
    }

    /// Adds the headers to `response`, keeping any a route set itself.
    pub fn apply(&self, response: &mut Response) {
        let h = response.headers_mut();
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert_with(|| self.csp.clone());
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
        h.entry(header::X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
        h.entry(header::REFERRER_POLICY)
            .or_insert(HeaderValue::from_static("no-referrer"));
        if self.hsts {
            h.entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert(HeaderValue::from_static("max-age=31536000"));
        }
    }

    /// `app` with these headers on every answer.
    pub fn layer(self, app: Router) -> Router {
        app.layer(axum::middleware::map_response(
            move |mut response: Response| {
                let policy = self.clone();
                async move {
                    policy.apply(&mut response);
                    response
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_hashed() {
        let html = "<script src=\"/a.js\" defer></script><p>x</p><script>let a=1;</script><script>{{ x }}</script>";
        assert_eq!(inline_scripts(html), vec!["let a=1;"]);
        // The value browsers compute for `let a=1;` (sha256, base64).
        assert_eq!(
            script_hash("let a=1;"),
            "'sha256-gzFfZBIOk0YYiNwv7EJGnTMpkU7Qc/ffONYxBxCjmDA='"
        );
    }

    #[test]
    fn the_theme_s_inline_script_is_allowed_by_hash() {
        let scripts = theme_scripts(None);
        assert!(
            !scripts.is_empty(),
            "the built-in theme has an inline script"
        );
        let policy = Policy::new(&scripts, false);
        let csp = policy.csp.to_str().unwrap();
        for s in &scripts {
            assert!(csp.contains(&script_hash(s)), "{csp}");
        }
        assert!(
            !csp.contains("'unsafe-inline' ;")
                && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn every_answer_gets_the_headers_and_hsts_only_under_tls() {
        let mut r = Response::new(axum::body::Body::empty());
        Policy::new(&[], false).apply(&mut r);
        let h = r.headers();
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        let mut r = Response::new(axum::body::Body::empty());
        Policy::new(&[], true).apply(&mut r);
        assert!(r.headers().get(header::STRICT_TRANSPORT_SECURITY).is_some());
    }
}
