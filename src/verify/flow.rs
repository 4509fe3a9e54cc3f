//! Pending verifications: created by a start, finished by the provider's callback, expired when the
//! callback never comes. One process's memory; secrets leave it when the flow ends.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use oauth2::{CsrfToken, PkceCodeVerifier};

use super::provider::{Endpoints, FlowParams, Provider};
use super::report::{Diagnosis, Field, Report, Status, Step, Verdict};

/// A started verification waiting for its callback. Holds the secret until the flow ends.
pub struct Pending {
    /// The public id the result is fetched by.
    pub id: String,
    /// The provider.
    pub provider: &'static dyn Provider,
    /// What was entered.
    pub params: FlowParams,
    /// Where the requests go.
    pub endpoints: Endpoints,
    /// The PKCE verifier, when PKCE is used.
    pub verifier: Option<PkceCodeVerifier>,
    /// The browser that started it (its cookie value).
    pub browser: String,
    /// The guide page to send the person back to.
    pub page: String,
    /// Things worth saying that are not failures.
    pub warnings: Vec<String>,
    /// When it started.
    pub created: Instant,
    /// Its `state` (the key of the pending map), so expiry can drop it directly.
    pub state: String,
}

enum Entry {
    Pending(Box<Pending>),
    /// The callback arrived and the exchange is running; the secret is with that task.
    Running(Report, String),
    Done(Report, String),
}

/// Why a callback was refused before any exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No flow has this state: never issued, already used, or expired.
    UnknownState,
    /// The flow was started in another browser.
    OtherBrowser,
}

/// The store of flows.
pub struct Flows {
    entries: HashMap<String, Entry>,
    by_state: HashMap<String, String>,
    starts: HashMap<IpAddr, (Instant, u32)>,
    /// Flow ids in the order they started: the TTL is fixed, so the oldest expire first and a
    /// sweep only looks at the front instead of every flow.
    started: VecDeque<(Instant, String)>,
    /// Finished flow ids in the order they finished, for forgetting old results the same way.
    finished: VecDeque<(Instant, String)>,
    last_starts_sweep: Option<Instant>,
    ttl: Duration,
    keep_results: Duration,
}

impl Flows {
    /// An empty store whose flows expire after `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Flows {
            entries: HashMap::new(),
            by_state: HashMap::new(),
            starts: HashMap::new(),
            started: VecDeque::new(),
            finished: VecDeque::new(),
            last_starts_sweep: None,
            ttl,
            keep_results: Duration::from_secs(30 * 60),
        }
    }

    /// How many flows wait for their callback.
    pub fn pending(&self) -> usize {
        self.by_state.len()
    }

    /// Counts a start from `ip`; false when it is over `per_minute`.
    pub fn allow_start(&mut self, ip: IpAddr, per_minute: u32, now: Instant) -> bool {
        let entry = self.starts.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= per_minute
    }

    /// Stores a started flow under its state.
    pub fn insert(&mut self, state: &CsrfToken, pending: Pending) {
        self.by_state
            .insert(state.secret().clone(), pending.id.clone());
        self.started
            .push_back((pending.created, pending.id.clone()));
        self.entries
            .insert(pending.id.clone(), Entry::Pending(Box::new(pending)));
    }

    /// Takes the flow a callback's `state` names, once: a second callback with the same state is
    /// refused. A callback from another browser is refused without using the state up.
    pub fn take(
        &mut self,
        state: &str,
        browser: Option<&str>,
        now: Instant,
    ) -> Result<Box<Pending>, Refusal> {
        self.sweep(now);
        let id = self
            .by_state
            .get(state)
            .ok_or(Refusal::UnknownState)?
            .clone();
        let Some(Entry::Pending(p)) = self.entries.get(&id) else {
            return Err(Refusal::UnknownState);
        };
        if browser != Some(p.browser.as_str()) {
            return Err(Refusal::OtherBrowser);
        }
        self.by_state.remove(state);
        let Some(Entry::Pending(p)) = self.entries.remove(&id) else {
            return Err(Refusal::UnknownState);
        };
        let mut running = waiting_report(&p);
        running.steps[0] = consent_step(&p, true);
        running.steps[1] = Step::pass(
            "callback",
            "Callback received",
            "The provider sent the browser back; checking the code now.",
        );
        self.entries
            .insert(id, Entry::Running(running, p.browser.clone()));
        Ok(p)
    }

    /// Records a finished flow's report.
    pub fn finish(&mut self, report: Report, browser: String, now: Instant) {
        self.finished.push_back((now, report.id.clone()));
        self.entries
            .insert(report.id.clone(), Entry::Done(report, browser));
    }

    /// The report for `id`, if `browser` started it.
    pub fn report(&mut self, id: &str, browser: Option<&str>, now: Instant) -> Option<Report> {
        self.sweep(now);
        let (report, owner) = match self.entries.get(id)? {
            Entry::Pending(p) => {
                let mut r = waiting_report(p);
                let left = self.ttl.saturating_sub(now.duration_since(p.created));
                r.summary = format!(
                    "Waiting for {} to send the browser back ({} s left).",
                    p.provider.info().name,
                    left.as_secs()
                );
                (r, p.browser.as_str())
            }
            Entry::Running(r, b) => (r.clone(), b.as_str()),
            Entry::Done(r, b) => (r.clone(), b.as_str()),
        };
        (browser == Some(owner)).then_some(report)
    }

    /// Expires flows whose callback did not come in time (dropping their secrets), and forgets old
    /// results and rate-limit windows. Costs what expired, not what is pending.
    pub fn sweep(&mut self, now: Instant) {
        let ttl = self.ttl;
        while let Some((created, _)) = self.started.front() {
            if now.duration_since(*created) < ttl {
                break;
            }
            let Some((_, id)) = self.started.pop_front() else {
                break;
            };
            // Flows already finished are gone from the pending side; only waiting ones expire.
            if !matches!(self.entries.get(&id), Some(Entry::Pending(_))) {
                continue;
            }
            if let Some(Entry::Pending(p)) = self.entries.remove(&id) {
                let report = expired_report(&p, ttl);
                self.by_state.remove(&p.state);
                self.finished.push_back((now, id.clone()));
                self.entries
                    .insert(id, Entry::Done(report, p.browser.clone()));
            }
        }
        let keep = self.keep_results;
        while let Some((at, _)) = self.finished.front() {
            if now.duration_since(*at) < keep {
                break;
            }
            if let Some((_, id)) = self.finished.pop_front() {
                if matches!(self.entries.get(&id), Some(Entry::Done(..))) {
                    self.entries.remove(&id);
                }
            }
        }
        // Rate-limit windows are a minute long; clearing them once a second is plenty.
        if self
            .last_starts_sweep
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            self.last_starts_sweep = Some(now);
            self.starts
                .retain(|_, (at, _)| now.duration_since(*at) < Duration::from_secs(60));
        }
    }
}

/// The consent step, judged from whether the provider sent the browser back at all.
pub fn consent_step(p: &Pending, came_back: bool) -> Step {
    let info = p.provider.info();
    if came_back {
        Step::pass(
            "consent",
            "Consent page reached",
            format!(
                "{} knew the {} and accepted the callback URL `{}`.",
                info.name, info.client_id_label, p.params.redirect_uri
            ),
        )
    } else {
        Step::waiting(
            "consent",
            "Consent page reached",
            Status::Pending,
            "Waiting for the provider.",
        )
    }
}

/// The report of a flow still waiting for its callback.
pub fn waiting_report(p: &Pending) -> Report {
    let info = p.provider.info();
    let mut steps = vec![
        consent_step(p, false),
        Step::waiting("callback", "Callback received", Status::Pending, "Not yet."),
        Step::waiting(
            "token",
            "Token issued for the secret",
            Status::Pending,
            "Not yet.",
        ),
    ];
    steps.push(Step::waiting(
        "probes",
        "API checks with the token",
        Status::Pending,
        "Not yet.",
    ));
    Report {
        id: p.id.clone(),
        provider: info.id,
        provider_name: info.name,
        verdict: Verdict::Pending,
        summary: String::new(),
        callback_url: p.params.redirect_uri.clone(),
        steps,
        warnings: p.warnings.clone(),
    }
}

/// What an expired flow says: the callback never came, and the two causes that look like that.
pub fn expired_report(p: &Pending, ttl: Duration) -> Report {
    let info = p.provider.info();
    let mut report = waiting_report(p);
    report.verdict = Verdict::Expired;
    report.summary = format!(
        "Setup not verified: {} never sent the browser back within {}.",
        info.name,
        if ttl.as_secs() >= 120 {
            format!("{} minutes", ttl.as_secs() / 60)
        } else {
            format!("{} seconds", ttl.as_secs())
        }
    );
    report.steps[0] = Step::fail(
        "consent",
        "Consent page reached",
        Diagnosis::field(
            Field::ClientId,
            format!(
                "The callback never arrived. {} shows its own error page, and never calls back, when it does not know the {} or when the callback URL is not registered. The callback URL sent was `{}`.",
                info.name, info.client_id_label, p.params.redirect_uri
            ),
            format!(
                "Look at the page {} showed, then check two values: the {} (`{}`), and the application's registered callback URL, which must be exactly `{}`. If both are right, make sure /oauth/callback reaches this server through any proxy.",
                info.name, info.client_id_label, p.params.client_id, p.params.redirect_uri
            ),
        ),
    );
    for step in report.steps.iter_mut().skip(1) {
        step.status = Status::Skip;
        step.detail = "Not reached.".into();
    }
    report
}
