//! What a module below `app` has to say that is not its result: a progress note or a
//! warning, handed to whoever called it (`app` prints it, honouring `--color` and `-q`).
//! No module below `app` prints.

/// One thing to tell the administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Progress or a result note (hidden by `-q`).
    Info(String),
    /// Something worth a look (shown even with `-q`).
    Warn(String),
}

/// Where notices go: `app`'s printer, or a list in a test.
pub trait Notify {
    fn notify(&self, notice: Notice);

    fn info(&self, msg: String) {
        self.notify(Notice::Info(msg));
    }

    fn warn(&self, msg: String) {
        self.notify(Notice::Warn(msg));
    }
}

/// Notices dropped (for callers that report nothing).
pub struct Silent;

impl Notify for Silent {
    fn notify(&self, _: Notice) {}
}

/// Notices kept in order, for a caller that reports them later (and for tests).
#[derive(Default)]
pub struct Collect(pub std::cell::RefCell<Vec<Notice>>);

impl Notify for Collect {
    fn notify(&self, notice: Notice) {
        self.0.borrow_mut().push(notice);
    }
}
