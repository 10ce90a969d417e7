//! Security of the desk: response headers on everything, sessions (cookie HttpOnly,
//! SameSite=Strict), logins against argon2 hashes, CSRF tokens on the verdict POSTs.
//!
//! Without desk users (loopback only) every visitor gets a session of the user `local`, so
//! that verdicts still carry a CSRF token and the access log still names who looked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) const SESSION_COOKIE: &str = "desk_session";
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// Headers on every response, error pages included.
pub(crate) async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Who is asking, put into each request by [`authenticate`].
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub user: String,
    pub csrf: String,
}

struct Session {
    who: Who,
    expires: Instant,
}

#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    pub fn create(&self, user: &str) -> (String, Who) {
        let token = random_token();
        let who = Who {
            user: user.to_owned(),
            csrf: random_token(),
        };
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(
            token.clone(),
            Session {
                who: who.clone(),
                expires: now + SESSION_LIFETIME,
            },
        );
        (token, who)
    }

    pub fn get(&self, token: &str) -> Option<Who> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(token)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.who.clone())
    }

    pub fn remove(&self, token: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(token);
    }
}

/// 32 random bytes, hex: session ids and CSRF tokens.
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random source");
    crate::store::hex(&b)
}

pub(crate) fn cookie(req_headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    ))
    .expect("hex token")
}

/// An argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source");
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("argon2 with default parameters and a 16-byte salt")
        .to_string()
}

/// Whether `password` matches the stored PHC string.
pub(crate) fn password_matches(password: &str, phc: &str) -> bool {
    PasswordVerifier::<str>::verify_password(&Argon2::default(), password.as_bytes(), phc).is_ok()
}

/// Constant-time comparison of a submitted CSRF token with the session's.
pub(crate) fn csrf_ok(who: &Who, submitted: &str) -> bool {
    let (a, b) = (who.csrf.as_bytes(), submitted.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stored_as_argon2id_and_checked() {
        let h = hash_password("mật khẩu");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("mật khẩu", &h));
        assert!(!password_matches("mat khau", &h));
        assert!(!password_matches("x", "not a hash"));
        assert_ne!(h, hash_password("mật khẩu"), "salted");
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let who = Who {
            user: "a".into(),
            csrf: "abcd".into(),
        };
        assert!(csrf_ok(&who, "abcd"));
        assert!(!csrf_ok(&who, "abce"));
        assert!(!csrf_ok(&who, ""));
    }
}
