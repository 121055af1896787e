//! JUnit XML for CI systems (quick-junit): one suite of test cases, each passed, failed with a
//! message, or skipped with a reason, with its time and what it printed.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// One test case of a report.
pub struct Case {
    pub classname: &'static str,
    pub name: String,
    pub ms: u64,
    /// Why it failed (None: it passed or was skipped).
    pub failure: Option<String>,
    /// Why it was not run.
    pub skipped: Option<String>,
    pub out: String,
}

/// The report as XML: one `<testsuite name=suite>` holding `cases`.
pub fn xml(suite: &str, cases: Vec<Case>) -> String {
    let mut s = TestSuite::new(suite);
    let mut total = Duration::ZERO;
    for c in cases {
        let status = match (c.failure, c.skipped) {
            (Some(why), _) => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(why);
                st
            }
            (None, Some(why)) => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(why);
                st
            }
            (None, None) => TestCaseStatus::success(),
        };
        let time = Duration::from_millis(c.ms);
        total += time;
        let mut t = TestCase::new(c.name, status);
        t.set_classname(c.classname)
            .set_time(time)
            .set_system_out(c.out);
        s.add_test_case(t);
    }
    s.set_time(total);
    let mut r = Report::new(suite);
    r.set_time(total).add_test_suite(s);
    r.to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_skips_are_counted_and_text_is_escaped() {
        let case = |name: &str, failure: Option<&str>, skipped: Option<&str>| Case {
            classname: "drill",
            name: name.into(),
            ms: 1500,
            failure: failure.map(String::from),
            skipped: skipped.map(String::from),
            out: "a < b & \"c\"".into(),
        };
        let x = xml(
            "drctl drills",
            vec![
                case("ok", None, None),
                case("bad", Some("node-2 <lost>"), None),
                case("later", None, Some("slapd is not installed")),
            ],
        );
        assert!(
            x.contains(r#"<testsuite name="drctl drills" tests="3""#),
            "{x}"
        );
        assert!(
            x.contains(r#"failures="1""#) && x.contains(r#"skipped="1""#),
            "{x}"
        );
        assert!(
            x.contains("node-2 &lt;lost&gt;") && x.contains("a &lt; b &amp;"),
            "{x}"
        );
        assert!(x.contains(r#"time="1.500""#), "{x}");
    }
}
