//! The auditors' web desk (`dossier serve`, SPEC.md "Auditors' web desk"): read-only pages
//! over an archive, from every figure down to the scanned page.
//!
//! Invariants:
//! - Read-only: the archive is opened without the run lock; figures come from the same code as
//!   `report` (`/api/report` is `report --format json`'s bytes). The only writes are audit
//!   verdicts (through [`crate::audit_sample::record`], under the archive lock, behind a CSRF
//!   token) and the access log (every view of a dossier, its objects or page images).
//! - Originals are reachable by SHA-256 only, and only those the index names as a document's
//!   original or searchable PDF: no path from a request ever reaches the file system.
//! - Loopback by default; any other address is refused unless desk users are configured
//!   (argon2 hashes in the index), and then every page needs a login (session cookie,
//!   HttpOnly, SameSite=Strict).
//! - Every response carries Content-Security-Policy (default-src 'self', no inline script or
//!   style) and X-Content-Type-Options: nosniff; pages are not cached (personal data).
//!
//! One file per concern: `app` (state, connections, report cache), `router` (routes),
//! `pages` (handlers), `templates` (askama), `i18n` (Vietnamese and English words), `security`
//! (headers, sessions, CSRF, passwords), `images` (page images), `access` (the access log).

mod access;
mod app;
mod audit_page;
mod dossier_page;
mod i18n;
mod images;
mod pages;
mod router;
mod security;
mod templates;

use std::net::SocketAddr;

pub use app::{ServeError, ServeOptions};
pub use images::page_png;
pub use security::hash_password;

/// Whether `addr` may be listened on with `users` desk users configured.
pub fn check_listen(addr: SocketAddr, users: usize) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || users > 0 {
        Ok(())
    } else {
        Err(ServeError::NoUsers(addr))
    }
}

/// Serves until the process is stopped. `ready` is called with the bound address (port 0
/// picks a free one) before the first request is taken.
pub fn serve(opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let desk = app::Desk::open(&opts)?;
    check_listen(opts.listen, desk.users)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Listen {
                addr: opts.listen,
                source,
            })?;
        ready(listener.local_addr()?);
        let app = router::router(std::sync::Arc::new(desk));
        axum::serve(listener, app).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_served_without_users() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(check_listen(addr("127.0.0.1:8080"), 0).is_ok());
        assert!(check_listen(addr("[::1]:8080"), 0).is_ok());
        assert!(matches!(
            check_listen(addr("0.0.0.0:8080"), 0),
            Err(ServeError::NoUsers(_))
        ));
        assert!(check_listen(addr("192.0.2.7:8080"), 0).is_err());
        assert!(check_listen(addr("0.0.0.0:8080"), 1).is_ok());
    }
}
