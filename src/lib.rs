//! docsite: a documentation site generator.
//!
//! Markdown guides with frontmatter go in; a fast, accessible site comes out. The library is
//! organised one module per concept, in the order data flows through a build:
//! [`config`] → [`content`] (with [`frontmatter`]) → [`site`] (the page graph) →
//! [`markdown`] (with [`highlight`]) → [`render`] (with [`theme`]) → [`output`].
//! Images go through [`assets`] (the WebP pipeline). [`build`] runs that pipeline; [`error`] and [`report`] are how every part reports problems.
//! See `ARCHITECTURE.md` for the map.

#![warn(missing_docs, unreachable_pub)]
// Errors carry their location and source line so every message can show an excerpt; they are
// the cold path, so their size is worth more than a smaller `Result`.
#![allow(clippy::result_large_err)]

pub mod assets;
pub mod build;
pub mod check;
pub mod component;
pub mod config;
pub mod content;
pub mod deps;
pub mod error;
pub mod frontmatter;
pub mod headers;
pub mod highlight;
pub mod host;
pub mod http;
pub mod init;
pub mod listen;
pub mod markdown;
pub mod nav;
pub mod output;
pub mod render;
pub mod report;
pub mod search;
pub mod serve;
pub mod site;
pub mod site_components;
pub mod summary;
pub mod theme;
pub mod verify;

pub use build::{BuildOptions, BuildSummary, build};
pub use error::{Error, ErrorKind, Errors, Location, Severity};
