//! Check results and their two renderings: one readable line per check, or the `--json`
//! object `{"base_url", "api_version", "checks": [{"id", "rules", "level", "passed",
//! "detail"}], "skipped": [{"id", "reason"}], "not_applicable": [{"id", "reason"}], "passed",
//! "failed"}`.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// How binding a check is. A failed [`Level::Must`] check makes the run fail (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// A MUST of the spec, a schema constraint or a status code the OpenAPI document fixes.
    Must,
    /// A SHOULD (or a recommended MAY) of the spec.
    Should,
}

impl Level {
    /// `MUST` / `SHOULD`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// Stable check id (`idempotency.conflict`).
    pub(crate) id: &'static str,
    /// The rule IDs of `ACP-REQUIREMENTS.md` it covers.
    pub(crate) rules: &'static [&'static str],
    /// MUST or SHOULD.
    pub(crate) level: Level,
    /// Whether the merchant passed.
    pub(crate) passed: bool,
    /// What was observed (on failure: why it failed).
    pub(crate) detail: String,
}

/// Every check of one run, in the order they ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    /// The merchant under test.
    pub(crate) base_url: String,
    /// The `API-Version` sent.
    pub(crate) api_version: String,
    /// Results.
    pub(crate) checks: Vec<Check>,
    /// Checks that could not run, with the reason (they count neither way).
    pub(crate) skipped: Vec<(&'static str, String)>,
    /// Checks of what the API version under test does not define, with the reason (they
    /// count neither way).
    pub(crate) not_applicable: Vec<(&'static str, String)>,
}

impl Report {
    /// Records a result.
    pub(crate) fn record(
        &mut self,
        id: &'static str,
        rules: &'static [&'static str],
        level: Level,
        result: Result<String, String>,
    ) {
        let (passed, detail) = match result {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        self.checks.push(Check {
            id,
            rules,
            level,
            passed,
            detail,
        });
    }

    /// Records a check that could not run.
    pub(crate) fn skip(&mut self, id: &'static str, reason: impl Into<String>) {
        self.skipped.push((id, reason.into()));
    }

    /// Records a check that does not apply to the API version under test.
    pub(crate) fn not_applicable(&mut self, id: &'static str, reason: impl Into<String>) {
        self.not_applicable.push((id, reason.into()));
    }

    /// Number of passed checks.
    pub(crate) fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.passed).count()
    }

    /// Number of failed checks.
    pub(crate) fn failed(&self) -> usize {
        self.checks.len() - self.passed()
    }

    /// Whether any MUST check failed (exit status 1).
    pub(crate) fn must_failed(&self) -> bool {
        self.checks
            .iter()
            .any(|c| !c.passed && c.level == Level::Must)
    }

    /// One line per check, then `N passed, M failed`.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!(
            "ACP conformance of {} (API-Version {})\n",
            self.base_url, self.api_version
        );
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            let _ = writeln!(
                out,
                "{mark} {:<6} {:<32} [{}] {}",
                c.level.as_str(),
                c.id,
                c.rules.join(", "),
                c.detail
            );
        }
        for (id, reason) in &self.skipped {
            let _ = writeln!(out, "SKIP        {id:<32} {reason}");
        }
        for (id, reason) in &self.not_applicable {
            let _ = writeln!(
                out,
                "N/A         {id:<32} not in {}: {reason}",
                self.api_version
            );
        }
        let _ = writeln!(out, "{} passed, {} failed", self.passed(), self.failed());
        out
    }

    /// The machine-readable object.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "base_url": self.base_url,
            "api_version": self.api_version,
            "checks": self.checks.iter().map(|c| json!({
                "id": c.id,
                "rules": c.rules,
                "level": c.level.as_str(),
                "passed": c.passed,
                "detail": c.detail,
            })).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|(id, reason)| json!({"id": id, "reason": reason})).collect::<Vec<_>>(),
            "not_applicable": self.not_applicable.iter().map(|(id, reason)| json!({"id": id, "reason": reason})).collect::<Vec<_>>(),
            "passed": self.passed(),
            "failed": self.failed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut r = Report {
            base_url: "http://m".into(),
            api_version: "2026-04-17".into(),
            ..Report::default()
        };
        r.record("a", &["IDEM-04"], Level::Must, Ok("ok".into()));
        r.record("b", &["IDEM-09"], Level::Should, Err("no header".into()));
        r
    }

    #[test]
    fn not_applicable_checks_count_neither_way_and_are_listed() {
        let mut r = sample();
        r.not_applicable("negotiation", "starts in 2026-01-30");
        assert_eq!((r.passed(), r.failed()), (1, 1));
        assert!(r.to_text().contains(
            "N/A         negotiation                      not in 2026-04-17: starts in 2026-01-30"
        ));
        assert_eq!(
            r.to_json()["not_applicable"],
            json!([{"id": "negotiation", "reason": "starts in 2026-01-30"}])
        );
    }

    #[test]
    fn should_failures_do_not_fail_the_run_but_are_counted() {
        let mut r = sample();
        assert_eq!((r.passed(), r.failed(), r.must_failed()), (1, 1, false));
        r.record("c", &["IDEM-11"], Level::Must, Err("200".into()));
        assert!(r.must_failed());
        assert!(r.to_text().ends_with("1 passed, 2 failed\n"));
    }

    #[test]
    fn json_has_the_documented_shape() {
        let j = sample().to_json();
        assert_eq!(j["failed"], 1);
        assert_eq!(
            j["checks"][1],
            json!({"id": "b", "rules": ["IDEM-09"], "level": "SHOULD", "passed": false, "detail": "no header"})
        );
    }
}
