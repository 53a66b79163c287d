//! gitlab.yml's `secret_file` names mail_room's webhook token, and
//! GitLab (`[gitlab] user`) must be able to read it, or its mail_room authenticator
//! rejects every POST. The reads here are done as that user (setpriv), as mail_room's user,
//! and as a third user who must not read it.

use std::fs;
use std::os::unix::fs::MetadataExt;

use crate::attacker::Attacker;
use crate::gitlab::{write_key_bases, BASE};
use crate::harness::TestRoot;

const TOKEN: &str = "var/opt/toolctl/rendered/mailroom/.gitlab_mailroom_secret";
const WEBHOOK: &str = "dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s=";

/// GitLab as `nobody:nogroup`; mail_room as root, or as `mail` (`mailroom_user`).
fn settings(mailroom_user: bool) -> String {
    let mailroom = if mailroom_user {
        "\n[mailroom]\nuser = \"mail\"\n"
    } else {
        ""
    };
    format!(
        "external_url = \"https://gitlab.test\"\n\n\
         [incoming_email]\nenabled = true\naddress = \"in+%{{key}}@mail.test\"\n\
         host = \"imap.mail.test\"\nssl = true\n{mailroom}\n\
         [gitlab]\ninstall = \"omnibus\"\nsecrets_file = \"/etc/gitlab/gitlab-secrets.json\"\n\
         encrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"\n\
         user = \"nobody\"\ngroup = \"nogroup\"\n"
    )
}

fn root(settings: &str) -> TestRoot {
    let t = TestRoot::builder()
        .settings(settings)
        .secret(
            "incoming-email",
            "user: 'in@mail.test'\npassword: 'imap-secret'\n",
        )
        .secret("mailroom", format!("webhook_secret: '{WEBHOOK}'\n"))
        .build();
    write_key_bases(&t, BASE, &[]);
    t
}

fn reads(user: &Attacker, path: &std::path::Path) -> Option<String> {
    let out = user.command("cat").arg(path).output().expect("run setpriv");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn gitlab_user_reads_the_webhook_token_gitlab_yml_names() {
    // Real accounts (toolctl refuses a user the system lacks): GitLab as `nobody`,
    // mail_room as `mail`; the third user is an unused uid.
    let gitlab = Attacker {
        uid: 65534,
        gid: 65534,
    };
    let poller = Attacker { uid: 8, gid: 8 };
    let other = Attacker::new();
    // mail_room as root (no `[mailroom] user`), then as its own user.
    for mailroom_user in [None, Some(poller.uid)] {
        let t = root(&settings(mailroom_user.is_some()));
        t.toolctl(["reconfigure"]).run().assert_code(0);
        let token = t.path(TOKEN);
        let meta = fs::metadata(&token).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o640);
        assert_eq!(meta.uid(), mailroom_user.unwrap_or(0));
        assert_eq!(meta.gid(), gitlab.gid);
        let gitlab_yml = fs::read_to_string(t.path("var/opt/toolctl/rendered/gitlab.yml")).unwrap();
        assert!(
            gitlab_yml.contains(
                "secret_file: \"/var/opt/toolctl/rendered/mailroom/.gitlab_mailroom_secret\""
            ),
            "{gitlab_yml}"
        );
        assert_eq!(reads(&gitlab, &token).as_deref(), Some(WEBHOOK));
        if let Some(uid) = mailroom_user {
            assert_eq!(uid, poller.uid);
            assert_eq!(reads(&poller, &token).as_deref(), Some(WEBHOOK));
        }
        assert_eq!(reads(&other, &token), None, "a third user reads the token");
        // A second run changes nothing.
        let again = t.toolctl(["reconfigure"]).run();
        again.assert_code(0);
        assert!(again.stderr.contains("0 changed"), "{again}");
    }
}
