//! What a verification found: a verdict and the steps that led to it, each with what went wrong and
//! how to fix it. This is the JSON `GET /api/verify/{id}` returns and the CLI prints.

use serde::Serialize;

/// The outcome of one step.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The step worked.
    Pass,
    /// The step failed; its detail says why.
    Fail,
    /// The step was not run because an earlier one failed.
    Skip,
    /// The step has not happened yet.
    Pending,
}

/// A form field a diagnosis points at, so the page can show the message next to it.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The provider's address.
    InstanceUrl,
    /// The name shown in the product.
    DisplayName,
    /// The application (client) ID.
    ClientId,
    /// The client secret.
    ClientSecret,
    /// The Microsoft Entra tenant.
    Tenant,
    /// The scopes requested.
    Scopes,
    /// The callback URL registered with the provider.
    CallbackUrl,
}

impl Field {
    /// The field's name in forms and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Field::InstanceUrl => "instance_url",
            Field::DisplayName => "display_name",
            Field::ClientId => "client_id",
            Field::ClientSecret => "client_secret",
            Field::Tenant => "tenant",
            Field::Scopes => "scopes",
            Field::CallbackUrl => "callback_url",
        }
    }
}

/// Why something failed and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// What happened, with the provider's own words where it gave any.
    pub detail: String,
    /// What to change, and where to find the right value.
    pub fix: String,
    /// The field to fix, if one is to blame.
    pub field: Option<Field>,
}

impl Diagnosis {
    /// A diagnosis blaming `field`.
    pub fn field(field: Field, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Diagnosis {
            detail: detail.into(),
            fix: fix.into(),
            field: Some(field),
        }
    }

    /// A diagnosis that blames no form field (the network, the provider, the organization).
    pub fn general(detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Diagnosis {
            detail: detail.into(),
            fix: fix.into(),
            field: None,
        }
    }
}

/// One step of a verification.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// A stable id: `consent`, `callback`, `token`, `probe:<name>`, `scope:<api name>`.
    pub id: String,
    /// What the step proves, in words.
    pub label: String,
    /// How it went.
    pub status: Status,
    /// What was seen.
    pub detail: String,
    /// What to do, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The form field to fix, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl Step {
    /// A step that worked.
    pub fn pass(
        id: impl Into<String>,
        label: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Step {
            id: id.into(),
            label: label.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
            field: None,
        }
    }

    /// A step that failed, with its diagnosis.
    pub fn fail(id: impl Into<String>, label: impl Into<String>, why: Diagnosis) -> Self {
        Step {
            id: id.into(),
            label: label.into(),
            status: Status::Fail,
            detail: why.detail,
            fix: Some(why.fix),
            field: why.field.map(Field::name),
        }
    }

    /// A step not run, or not reached yet.
    pub fn waiting(
        id: impl Into<String>,
        label: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        Step {
            id: id.into(),
            label: label.into(),
            status,
            detail: detail.into(),
            fix: None,
            field: None,
        }
    }
}

/// The overall answer.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Waiting for the callback.
    Pending,
    /// Every step passed.
    Verified,
    /// A step failed.
    Failed,
    /// The callback never arrived.
    Expired,
}

/// A verification's result.
#[derive(Serialize, Clone, Debug)]
pub struct Report {
    /// The flow's public id.
    pub id: String,
    /// The provider id, e.g. `github`.
    pub provider: &'static str,
    /// The provider's name, e.g. `GitHub`.
    pub provider_name: &'static str,
    /// The overall answer.
    pub verdict: Verdict,
    /// One sentence for the top of the result.
    pub summary: String,
    /// The exact callback URL sent to the provider.
    pub callback_url: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Things that did not fail but look wrong (a page origin that differs from the configured one).
    pub warnings: Vec<String>,
}

impl Report {
    /// The verdict and summary that follow from the steps.
    pub fn conclude(&mut self) {
        let failed = self.steps.iter().find(|s| s.status == Status::Fail);
        match failed {
            Some(step) => {
                self.verdict = Verdict::Failed;
                self.summary = format!("Setup not verified: {}", step.detail);
            }
            None => {
                self.verdict = Verdict::Verified;
                self.summary = format!(
                    "Setup verified: {} accepted the application and every check passed.",
                    self.provider_name
                );
            }
        }
    }
}
