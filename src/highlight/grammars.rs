//! The long tail: every fence language the own scanners do not know but bat's grammar set
//! (`two-face`, over `syntect`) does, highlighted with the same `hl-` classes.
//!
//! TextMate scopes are mapped onto the theme's classes (the innermost scope that means
//! something to a reader wins), so the long tail needs no CSS of its own. The grammar set is
//! loaded on the first block that needs it: a site without long-tail blocks, and a warm build
//! whose blocks all come from the cache, never load it.

use std::collections::HashMap;
use std::sync::OnceLock;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};

use super::scan::{Class, Out};

/// Lines longer than this (minified code) are left plain: grammars can be slow on them.
const MAX_LINE: usize = 4096;

/// Fence names people write that the grammar set knows by another name.
const ALIASES: &[(&str, &str)] = &[
    ("c++", "cpp"),
    ("csharp", "cs"),
    ("docker", "dockerfile"),
    ("fsharp", "fs"),
    ("objc", "m"),
    ("objective-c", "m"),
    ("terraform", "tf"),
];

/// The grammar set, loaded when first needed.
#[derive(Default)]
pub(crate) struct Grammars {
    set: OnceLock<SyntaxSet>,
}

impl Grammars {
    /// Whether the set has not been loaded (no block needed it).
    #[cfg(test)]
    pub(crate) fn is_unloaded(&self) -> bool {
        self.set.get().is_none()
    }

    fn set(&self) -> &SyntaxSet {
        self.set.get_or_init(two_face::syntax::extra_newlines)
    }

    /// Highlights `code` as the grammar for fence name `token` (one of [`FENCES`] or
    /// [`ALIASES`]); `false` if the set has no such grammar.
    pub(crate) fn highlight(&self, token: &str, code: &str, out: &mut Out<'_>) -> bool {
        let set = self.set();
        let Some(syntax) = set.find_syntax_by_token(token) else {
            return false;
        };
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut classes: HashMap<Scope, Option<Class>> = HashMap::new();
        let mut run = Run::default();
        let mut lines = code.split_inclusive('\n');
        for line in lines.by_ref() {
            if line.len() > MAX_LINE {
                run.flush(out);
                out.text(line);
                break;
            }
            let Ok(ops) = state.parse_line(line, set) else {
                run.flush(out);
                out.text(line);
                break;
            };
            let mut from = 0;
            for (at, op) in ops {
                let at = at.min(line.len());
                if at > from {
                    let class = class_of(&stack, &mut classes);
                    run.push(out, class, line.get(from..at).unwrap_or(""));
                    from = at;
                }
                if stack.apply(&op).is_err() {
                    break;
                }
            }
            let class = class_of(&stack, &mut classes);
            run.push(out, class, line.get(from..).unwrap_or(""));
        }
        run.flush(out);
        // Whatever was left after a line the grammar could not take, as it is.
        for line in lines {
            out.text(line);
        }
        true
    }
}

/// Text of one class waiting to be written, so that neighbouring tokens of a class share a span
/// (`public static` is one), with the blanks after it held back: they join the span only if
/// more of its class follows.
#[derive(Default)]
struct Run {
    class: Option<Class>,
    text: String,
    blanks: String,
}

impl Run {
    fn push(&mut self, out: &mut Out<'_>, class: Option<Class>, t: &str) {
        if t.is_empty() {
            return;
        }
        if self.class.is_some() && class.is_none() && t.bytes().all(|c| c == b' ' || c == b'\t') {
            self.blanks.push_str(t);
            return;
        }
        if class != self.class {
            self.flush(out);
            self.class = class;
        }
        self.text.push_str(&self.blanks);
        self.blanks.clear();
        self.text.push_str(t);
    }

    fn flush(&mut self, out: &mut Out<'_>) {
        match self.class {
            Some(class) => {
                // A line break ends a span's text but is written outside it.
                let body = self.text.trim_end_matches('\n');
                out.span(class, body);
                out.text(self.text.get(body.len()..).unwrap_or(""));
            }
            None => out.text(&self.text),
        }
        out.text(&self.blanks);
        self.text.clear();
        self.blanks.clear();
        self.class = None;
    }
}

/// The class of text under `stack`: that of the innermost scope that has one.
fn class_of(stack: &ScopeStack, memo: &mut HashMap<Scope, Option<Class>>) -> Option<Class> {
    stack.as_slice().iter().rev().find_map(|scope| {
        *memo
            .entry(*scope)
            .or_insert_with(|| scope_class(&scope.build_string()))
    })
}

/// The theme class a TextMate scope name stands for, by the naming conventions grammars share.
/// `None` for scopes that colour nothing (punctuation, operators, `meta.*`), so the scope
/// around them decides.
pub(crate) fn scope_class(scope: &str) -> Option<Class> {
    let is = |prefix: &str| {
        scope == prefix
            || scope
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    Some(if is("comment") {
        Class::Comment
    } else if is("constant.character.escape") {
        Class::Escape
    } else if is("string.regexp") {
        Class::StringSpecial
    } else if is("string") || is("markup.raw") || is("markup.inserted") {
        Class::String
    } else if is("constant.numeric") {
        Class::Number
    } else if is("constant.language") {
        Class::ConstantBuiltin
    } else if is("constant") {
        Class::Constant
    } else if is("keyword.operator")
        || is("punctuation")
        || is("meta")
        || is("source")
        || is("entity.name.variable")
    {
        return None;
    } else if is("keyword")
        || is("storage")
        || is("markup.heading")
        || is("markup.deleted")
        || is("entity.name.section")
    {
        Class::Keyword
    } else if is("support.function") {
        Class::FunctionBuiltin
    } else if is("entity.name.function") || is("variable.function") {
        Class::Function
    } else if is("variable.language") {
        Class::VariableBuiltin
    } else if is("entity.name.tag") {
        Class::Tag
    } else if is("entity.other.attribute-name") {
        Class::Attribute
    } else if is("entity.name.label") {
        Class::Label
    } else if is("support.type.property-name")
        || is("variable.other.member")
        || is("variable.other.property")
        || is("entity.name.key")
    {
        Class::Property
    } else if is("support.type")
        || is("support.class")
        || is("entity.name")
        || is("entity.other.inherited-class")
    {
        Class::Type
    } else {
        return None;
    })
}

/// The grammar-set name a fence selects, if the set knows it: a token of [`FENCES`] (file
/// extensions and lower-case names, as the set matches them) or an alias.
pub(crate) fn token(lang: &str) -> Option<&'static str> {
    let lang = lang.trim();
    if lang.is_empty() || lang.len() > 40 {
        return None;
    }
    let lower = lang.to_ascii_lowercase();
    if let Ok(i) = ALIASES.binary_search_by(|(a, _)| (*a).cmp(lower.as_str())) {
        return ALIASES.get(i).map(|(_, t)| *t);
    }
    FENCES
        .binary_search(&lower.as_str())
        .ok()
        .and_then(|i| FENCES.get(i).copied())
}

/// Every fence name the grammar set answers to: its names and the aliases.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FENCES
        .iter()
        .copied()
        .chain(ALIASES.iter().map(|(a, _)| *a))
}

/// Every name the grammar set selects a grammar by, lower-case and sorted: kept in the source
/// so that knowing whether a fence is highlighted never loads the set (a test checks it
/// against the set).
#[rustfmt::skip]
pub(crate) static FENCES: &[&str] = &[
    ".bash_aliases", ".bash_completions", ".bash_functions", ".bash_login", ".bash_logout",
    ".bash_profile", ".bash_variables", ".bashrc", ".coveragerc", ".dockerfile",
    ".editorconfig", ".env", ".env.default", ".env.defaults", ".env.dev", ".env.development",
    ".env.development.local", ".env.dist", ".env.dusk.local", ".env.example", ".env.local",
    ".env.prod", ".env.production", ".env.production.local", ".env.sample", ".env.staging",
    ".env.template", ".env.test", ".env.test.local", ".env.testing", ".envrc", ".exrc",
    ".flaskenv", ".git", ".gitattributes", ".gitconfig", ".gitignore", ".gitlint",
    ".gitmodules", ".gvimrc", ".hgrc", ".htaccess", ".htgroups", ".htpasswd", ".mailmap",
    ".nvimrc", ".profile", ".pylintrc", ".textmate_init", ".vimrc", ".zlogin", ".zlogout",
    ".zprofile", ".zshenv", ".zshrc", "_exrc", "_gvimrc", "_vimrc", "actionscript", "ad", "ada",
    "adb", "adoc", "adp", "ads", "apache conf", "appfile", "applescript", "appraisals",
    "arm assembly", "as", "asa", "asciidoc", "asciidoc (asciidoctor)", "ash", "asm", "asp",
    "attributes", "authorized keys", "authorized_keys", "authorized_keys2", "awk", "babel",
    "bash", "bat", "batch file", "bazel", "berksfile", "bib", "bibtex", "bnsh", "bnsi",
    "bourne again shell (bash)", "brewfile", "bsh", "build", "builder", "bzl", "c", "c#", "c++",
    "cabal", "cakefile", "camlp4", "capfile", "cargo build results", "cargo.lock", "cc", "cfc",
    "cfg", "cfm", "cfml", "cfml script", "cfml script (tags)", "cgi", "cheffile", "cjs", "cl",
    "clisp", "clj", "cljc", "cljs", "clojure", "cls", "cm", "cmake", "cmake c header",
    "cmake c++ header", "cmakecache", "cmakecache.txt", "cmakecommands", "cmakelists.txt",
    "cmd", "cmd-help", "coffee", "coffee.erb", "coffeescript", "comma separated values",
    "command help", "commands-builtin-shell-bash", "commit_editmsg", "comp", "conf", "conf.erb",
    "config.ru", "cp", "cpp", "cpuinfo", "cpy", "cr", "cron.d", "crontab", "crypttab",
    "crystal", "cs", "cson", "css", "css.erb", "css.less", "css.liquid", "csv", "csx", "cts",
    "cxx", "d", "dart", "ddl", "debsources", "deliverfile", "desktop", "di", "diff",
    "dmd output", "dml", "dockerfile", "dockerfile (with bash)", "done.txt", "dot", "dotenv",
    "dpr", "dtml", "ebuild", "eclass", "edn", "el", "elixir", "elm", "elm compile messages",
    "elm documentation", "email", "emakefile", "eml", "env", "env.example", "env.sample",
    "env.template", "envvars", "epp", "erb", "erbsql", "erl", "erlang", "es6", "escript", "ex",
    "ex.re", "exclude", "exs", "f", "f#", "f03", "f08", "f77", "f90", "f95", "fasl",
    "fastcgi_params", "fastfile", "fcgi", "fish", "for", "fortran (fixed form)",
    "fortran (modern)", "fortran namelist", "fpp", "frag", "fs", "fsh", "fshader", "fsi",
    "fstab", "fsx", "gd", "gdscript (godot engine)", "gemfile", "gemspec", "geom",
    "gfortran build results", "git attributes", "git commit", "git common", "git config",
    "git ignore", "git link", "git log", "git mailmap", "git rebase todo", "git-rebase-todo",
    "gitattributes", "gitconfig", "gitignore", "gitlog", "glsl", "gnu", "gnumakefile",
    "gnuplot", "go", "go.mod", "go.sum", "go.work", "gomod", "gopkg.lock", "gosum", "gp", "gpl",
    "gpr", "gql", "gradle", "graphql", "graphqls", "graphviz (dot)", "groff", "groff/troff",
    "groovy", "group", "gs", "gsh", "gshader", "guardfile", "gv", "gvimrc", "gvy", "gyp",
    "gypi", "h", "h++", "h++.in", "h.in", "haml", "haskell", "hcl", "help", "hgrc", "hh",
    "hh.in", "highlight non-printables", "hosts", "hosts file", "hpp", "hpp.in", "hrl", "hs",
    "htaccess", "htc", "htgroups", "htm", "htm.j2", "html", "html (asp)", "html (eex)",
    "html (erlang)", "html (jinja2)", "html (rails)", "html (tcl)", "html (twig)", "html.eex",
    "html.erb", "html.j2", "html.leex", "html.twig", "htpasswd", "http",
    "http request and response", "hxx", "hxx.in", "idr", "idris", "inc", "inf", "ini", "inl",
    "ipp", "ipynb", "irbrc", "j2", "java", "java properties", "java server page (jsp)",
    "javadoc", "javascript", "javascript (babel)", "javascript (rails)", "jbuilder",
    "jenkinsfile", "jinja", "jinja2", "jl", "jq", "js", "js.erb", "json", "json (terraform)",
    "jsonnet", "jsp", "jsx", "julia", "known hosts", "known_hosts", "known_hosts.old", "kotlin",
    "kt", "kts", "l", "latex", "latex log", "lean", "lean 4", "less", "lhs", "libjsonnet",
    "libsonnet", "lisp", "literate haskell", "livescript", "ll", "llvm", "lng", "log", "ls",
    "ls.erb", "lsp", "ltx", "lua", "m", "mac", "mailmap", "mak", "make", "make output",
    "makefile", "makefile.am", "makefile.in", "man", "manpage", "markdn", "markdown", "matlab",
    "mboxz", "mbx", "md", "mdown", "mediawikerpanel", "mediawiki", "meminfo", "merge_msg",
    "mesh", "mime.types", "mjs", "mk", "ml", "mli", "mll", "mly", "mm", "msg", "mtab", "mts",
    "mud", "multimarkdown", "namelist", "nant build file", "nasm", "navigational bar sv",
    "navigational bar vhdl", "nginx", "nginx.conf", "nim", "nimble", "nims", "ninja", "nix",
    "nsdinc", "nsh", "nsi", "nsis", "objective-c", "objective-c++", "ocaml", "ocamllex",
    "ocamlmakefile", "ocamlyacc", "odin", "openmp (fortran)", "opml", "org", "orgmode", "p",
    "pas", "pascal", "passwd", "patch", "pb.txt", "pbtxt", "pc", "pdm.lock", "perl", "php",
    "php source", "php3", "php4", "php5", "php7", "phps", "phpt", "phtml", "pip",
    "pipe separated values", "pipfile", "pipfile.lock", "pkgbuild", "pl", "plot", "plt", "pm",
    "pmc", "pod", "podfile", "podspec", "poetry.lock", "powershell", "pp", "prawn",
    "private key", "properties", "proto", "proto.text", "protobuf", "protocol buffer",
    "protocol buffer (text)", "protodevel", "prototxt", "ps1", "psd1", "psm1", "pub", "puppet",
    "purescript", "purs", "pxd", "pxd.in", "pxi", "pxi.in", "py", "py3", "pyi", "python", "pyw",
    "pyx", "pyx.in", "qml", "qmlproject", "r", "r console", "rabl", "racket", "rahit", "rails",
    "rake", "rakefile", "rantfile", "rb", "rbx", "rcall", "rchit", "rd", "rd (r documentation)",
    "re", "reg", "rego", "regular expression", "regular expressions (elixir)",
    "regular expressions (javascript)", "regular expressions (php)",
    "regular expressions (python)", "requirements.in", "requirements.txt", "resolv",
    "resolv.conf", "resource", "rest", "restructuredtext", "rgen", "rhtml", "rint", "rjs",
    "rkt", "rmiss", "rng", "robot", "robot framework", "rprofile", "rpy", "rs", "rss", "rst",
    "ruby", "ruby haml", "ruby on rails", "ruby slim", "ruby.rail", "rust", "rxml", "s",
    "salt state (sls)", "sass", "sbt", "sc", "scala", "scanfile", "scgi_params", "scm",
    "sconscript", "sconstruct", "script editor", "scss", "semi-colon separated values",
    "separated values", "sh", "shell-unix-generic", "show-nonprintable", "shtml", "sig",
    "simplecov", "skim", "slakefile", "sld", "slim", "sls", "sml", "snakefile", "snapfile",
    "sol", "solidity", "sources.list", "sql", "sql (rails)", "sql.erb", "ss", "ssh common",
    "ssh config", "ssh crypto", "ssh_config", "sshd config", "sshd_config", "strace", "sty",
    "styl", "stylus", "sublime-build", "sublime-color-scheme", "sublime-commands",
    "sublime-completions", "sublime-keymap", "sublime-macro", "sublime-menu",
    "sublime-mousemap", "sublime-project", "sublime-settings", "sublime-syntax",
    "sublime-theme", "sv", "svelte", "svg", "svh", "svlt", "swift", "syslog", "systemverilog",
    "t", "tab", "tab separated values", "tag_editmsg", "task", "tcl", "terraform", "tesc",
    "tese", "testbox", "tex", "textile", "textpb", "textproto", "tf", "tfstate", "tfvars",
    "thor", "thorfile", "tld", "tml", "todo.txt", "toml", "troff", "ts", "tsv", "tsx", "twig",
    "typ", "typescript", "typescriptreact", "typst", "typst build results", "typst code", "url",
    "uv.lock", "uwsgi_params", "v", "vagrantfile", "varlink", "verilog", "vert", "vh", "vhd",
    "vhdl", "vho", "vht", "vim", "vimhelp", "viml", "vimrc", "vpy", "vs", "vsh", "vshader",
    "vue", "vue component", "vy", "vyper", "wgsl", "wiki", "wikipedia", "wscript",
    "x86_64 assembly", "xaml", "xhtml", "xhtml.j2", "xml", "xml.j2", "xsd", "xslt", "yaml",
    "yasm", "yaws", "yml", "zig", "zon", "zsh",
];

/// The names [`FENCES`] should hold: every extension and lower-case name the set resolves,
/// except plain text's (a grammar adds nothing to it).
#[cfg(test)]
pub(super) fn tokens_of(set: &SyntaxSet) -> Vec<String> {
    let mut names: Vec<String> = set
        .syntaxes()
        .iter()
        .flat_map(|s| {
            s.file_extensions
                .iter()
                .map(|e| e.to_ascii_lowercase())
                .chain(std::iter::once(s.name.to_ascii_lowercase()))
        })
        // Man pages answer to `1` … `9`, which no fence means.
        .filter(|t| !t.bytes().all(|c| c.is_ascii_digit()))
        .filter(|t| {
            set.find_syntax_by_token(t)
                .is_some_and(|s| s.name != "Plain Text")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_the_sets_names() {
        let set = two_face::syntax::extra_newlines();
        let expected = tokens_of(&set);
        assert!(
            FENCES
                .iter()
                .copied()
                .eq(expected.iter().map(String::as_str)),
            "FENCES is out of date; it should be:\n{expected:?}"
        );
        for (alias, token) in ALIASES {
            assert!(set.find_syntax_by_token(token).is_some(), "{alias}");
        }
        assert!(ALIASES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
