//! Secret values that YAML 1.1 (GitLab's Psych) types as something else than a string.

use std::fs;

use crate::harness::TestRoot;

fn root() -> TestRoot {
    TestRoot::builder()
        .settings("external_url = \"https://gitlab.example.com\"\n")
        .secrets_init()
        .build()
}

#[test]
fn a_sexagesimal_float_is_refused_and_nothing_is_written() {
    let t = root();
    // Psych reads `190:20:30.15` as the float 685230.15, `190:20:30` as 685230.
    for value in ["190:20:30.15", "-1_90:20:30.5", "190:20:30"] {
        for existing in [false, true] {
            if existing {
                t.write_secret("smtp", b"user_name: 'gitlab'\npassword: 'old'\n");
            }
            let before = t.snapshot();
            let input = format!("user_name: 'gitlab'\npassword: {value}\n");
            let out = t.toolctl(["smtp", "secret", "write"]).stdin(input).run();
            out.assert_error("`password` is a number", &["quote the value"]);
            assert!(!out.stderr.contains(value), "the value was echoed\n{out}");
            before.assert_unchanged(&t.snapshot(), &out);
            // Quoted, it is the string it looks like.
            let quoted = format!("user_name: 'gitlab'\npassword: '{value}'\n");
            t.write_secret("smtp", quoted.as_bytes());
            assert_eq!(t.show_secret("smtp"), quoted.as_bytes());
            fs::remove_file(t.secret_file("smtp")).unwrap();
        }
    }
}
