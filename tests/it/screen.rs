//! What a terminal of a given width shows after a command: the command runs on a
//! pseudo-terminal (util-linux `script`, `stty cols N`), and its bytes are played on a
//! small terminal model (printable text wrapping at the width, `\r`, `\n`, cursor up and
//! down, erase line and erase below), so a progress line that erases its neighbours is
//! caught as a person would see it.

use std::process::Command;

use crate::harness::TestRoot;

/// Runs `toolctl --root ROOT ARGS` on a terminal of `cols` columns (and `env`); returns
/// the screen's lines at the end, trailing blanks removed.
pub fn on_terminal(t: &TestRoot, cols: u16, env: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    play(&raw(t, cols, env, args), usize::from(cols))
}

/// [`on_terminal`] without the terminal's wrapping: a line wider than `cols` stays one
/// line, so that a test can see that it was too wide.
pub fn unwrapped(t: &TestRoot, cols: u16, env: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    play(&raw(t, cols, env, args), usize::MAX)
}

/// The bytes `toolctl ARGS` wrote to a terminal of `cols` columns.
pub fn raw(t: &TestRoot, cols: u16, env: &[(&str, &str)], args: &[&str]) -> String {
    let bin = crate::harness::toolctl_bin();
    let mut line = format!(
        "stty cols {cols} rows 50; exec {} --root '{}'",
        bin.display(),
        t.root().display()
    );
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TOOLCTL_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("COLUMNS")
        .env("TERM", "dumb")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null());
    let out = cmd.output().expect("run script(1)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines a terminal of `cols` columns shows after `bytes`.
pub fn play(bytes: &str, cols: usize) -> Vec<String> {
    let mut screen: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = bytes.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
            }
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    continue;
                }
                chars.next();
                let mut arg = String::new();
                let mut fin = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        fin = c;
                        break;
                    }
                    arg.push(c);
                }
                let n = arg.trim_start_matches('?').parse::<usize>().unwrap_or(0);
                while screen.len() <= row {
                    screen.push(Vec::new());
                }
                match fin {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => row += n.max(1),
                    'C' => col += n.max(1),
                    'D' => col = col.saturating_sub(n.max(1)),
                    'G' => col = n.saturating_sub(1),
                    'K' => {
                        let l = &mut screen[row];
                        match n {
                            0 => l.truncate(col),
                            1 => l.iter_mut().take(col + 1).for_each(|c| *c = ' '),
                            _ => l.clear(),
                        }
                    }
                    'J' => {
                        screen[row].truncate(col);
                        screen.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                if col >= cols {
                    row += 1;
                    col = 0;
                }
                while screen.len() <= row {
                    screen.push(Vec::new());
                }
                let l = &mut screen[row];
                while l.len() < col {
                    l.push(' ');
                }
                if col < l.len() {
                    l[col] = c;
                } else {
                    l.push(c);
                }
                col += 1;
            }
        }
    }
    let mut lines: Vec<String> = screen
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[test]
fn the_model_erases_and_wraps_like_a_terminal() {
    assert_eq!(play("abcdef\n", 4), ["abcd", "ef"]);
    assert_eq!(play("one\ntwo\x1b[1A\r\x1b[2Kx\n", 10), ["x", "two"]);
    assert_eq!(play("spin…\r\x1b[Kdone\n", 10), ["done"]);
}
